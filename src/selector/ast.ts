/**
 * The parsed form of a Calico selector. One node type per operator of surfaces.md §4.2; `&&`
 * and `||` chains are flat lists (as Calico's AndNode/OrNode are), so `a && b && c` is one node.
 */
export type SelectorNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'global' }
  | { readonly kind: 'has'; readonly label: string }
  | {
      readonly kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
      readonly label: string;
      readonly value: string;
    }
  | { readonly kind: 'in' | 'notIn'; readonly label: string; readonly values: readonly string[] }
  | { readonly kind: 'not'; readonly operand: SelectorNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly SelectorNode[] };

/** The kinds of node that compare one label with one string value. */
export type ValueComparison = Extract<SelectorNode, { value: string }>['kind'];

/** How each comparison operator is written (Calico's canonical spelling). */
export const OPERATOR_SPELLINGS: Readonly<Record<ValueComparison | 'in' | 'notIn', string>> = {
  eq: '==',
  ne: '!=',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  in: 'in',
  notIn: 'not in',
};

/** Longest label Calico accepts (LabelKeyMatcher `[a-zA-Z0-9_./-]{1,512}`). */
export const MAX_LABEL_LENGTH = 512;

/** True for a character that may appear in a label: `[A-Za-z0-9_./-]`. */
export function isLabelChar(ch: string | undefined): boolean {
  if (ch === undefined || ch.length !== 1) return false;
  const c = ch.charCodeAt(0);
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    ch === '_' ||
    ch === '.' ||
    ch === '/' ||
    ch === '-'
  );
}

/** True when `label` is a valid label name (1 to 512 label characters). */
export function isValidLabel(label: string): boolean {
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return false;
  for (const ch of label) if (!isLabelChar(ch)) return false;
  return true;
}

/**
 * Compares strings by code point, which is the byte order of their UTF-8 encoding: Calico sorts
 * set members with Go's `sort.Strings` on UTF-8 bytes, and JavaScript's `<` on UTF-16 code units
 * disagrees for characters above U+FFFF versus U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++; // both are the same surrogate pair; skip its low half
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Set members as Calico keeps them: de-duplicated and sorted in UTF-8 byte order. */
export function normalizeSetValues(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodePoints);
}
