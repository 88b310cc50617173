// A block-style YAML writer that lays strings out as go-yaml v2's emitter does (emitterc.go),
// including its folding: a plain or quoted string breaks at the first space found past column
// 80, and the rest continues on the next line, indented two past its key (best_width 80,
// best_indent 2). Only the JSON data model is needed: maps, arrays, strings, numbers, booleans,
// null. Map keys come out in the order `compareKeys` gives.
import { goScalarStyle, isPrintable } from './go-yaml-scalar.js';

const BEST_WIDTH = 80;
const BEST_INDENT = 2;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isCollection = (v: unknown): boolean =>
  (Array.isArray(v) && v.length > 0) || (isPlainObject(v) && Object.keys(v).length > 0);

const isBreak = (c: string): boolean =>
  c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';

const ESCAPES: Record<number, string> = {
  0x00: '0',
  0x07: 'a',
  0x08: 'b',
  0x09: 't',
  0x0a: 'n',
  0x0b: 'v',
  0x0c: 'f',
  0x0d: 'r',
  0x1b: 'e',
  0x22: '"',
  0x5c: '\\',
  0x85: 'N',
  0xa0: '_',
  0x2028: 'L',
  0x2029: 'P',
};

function escapeChar(c: string): string | undefined {
  const cp = c.codePointAt(0)!;
  if (isPrintable(c) && cp !== 0xfeff && !isBreak(c) && c !== '"' && c !== '\\') return undefined;
  const named = ESCAPES[cp];
  if (named !== undefined) return `\\${named}`;
  const hex = cp.toString(16).toUpperCase();
  if (cp <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\U${hex.padStart(8, '0')}`;
}

/**
 * A string after `prefix` (the text already on its line), as lines. `indent` is where folded
 * and block lines start; keys (`fold` false) never fold.
 */
function stringLines(prefix: string, value: string, indent: number, isKey: boolean): string[] {
  const style = goScalarStyle(value, isKey);
  const pad = ' '.repeat(indent);
  if (style === 'literal') {
    const last = value.length - 1;
    const chomp = !isBreak(value[last]!) ? '-' : last === 0 || isBreak(value[last - 1]!) ? '+' : '';
    const hint = value[0] === ' ' || isBreak(value[0]!) ? String(BEST_INDENT) : '';
    const body = chomp === '-' ? value : value.slice(0, -1);
    return [`${prefix}|${hint}${chomp}`, ...body.split('\n').map((l) => (l === '' ? '' : pad + l))];
  }
  const chars = [...value];
  const lines: string[] = [];
  let line = prefix;
  let column = [...prefix].length;
  const put = (text: string): void => {
    line += text;
    column += [...text].length;
  };
  const fold = !isKey;
  let spaces = false;
  if (style === 'single') put("'");
  if (style === 'double') put('"');
  chars.forEach((c, i) => {
    const escaped = style === 'double' ? escapeChar(c) : undefined;
    if (escaped !== undefined) {
      put(escaped);
      spaces = false;
      return;
    }
    if (c === ' ') {
      const next = chars[i + 1];
      const inside = style === 'plain' || (i > 0 && i < chars.length - 1);
      const canBreak =
        fold && !spaces && column > BEST_WIDTH && inside && (style === 'double' || next !== ' ');
      if (canBreak) {
        lines.push(line);
        line = pad;
        column = indent;
        if (style === 'double' && next === ' ') put('\\');
      } else put(c);
      spaces = true;
      return;
    }
    put(style === 'single' && c === "'" ? "''" : c);
    spaces = false;
  });
  if (style === 'single') put("'");
  if (style === 'double') put('"');
  lines.push(line);
  return lines;
}

function scalarLines(prefix: string, value: unknown, indent: number): string[] {
  if (typeof value === 'string') return stringLines(prefix, value, indent, false);
  if (value === null || value === undefined) return [`${prefix}null`];
  if (Array.isArray(value)) return [`${prefix}[]`];
  if (isPlainObject(value)) return [`${prefix}{}`];
  return [`${prefix}${String(value)}`];
}

type KeyOrder = (a: string, b: string) => number;

function mappingLines(map: Record<string, unknown>, indent: number, order: KeyOrder): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const key of Object.keys(map).sort(order)) {
    const value = map[key];
    if (value === undefined) continue;
    const keyText = stringLines('', key, indent + BEST_INDENT, true).join('\n');
    const prefix = `${pad}${keyText}:`;
    if (!isCollection(value)) out.push(...scalarLines(`${prefix} `, value, indent + BEST_INDENT));
    else if (Array.isArray(value)) out.push(prefix, ...sequenceLines(value, indent, order));
    else
      out.push(
        prefix,
        ...mappingLines(value as Record<string, unknown>, indent + BEST_INDENT, order),
      );
  }
  return out;
}

function sequenceLines(items: readonly unknown[], indent: number, order: KeyOrder): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const item of items) {
    if (!isCollection(item)) {
      out.push(...scalarLines(`${pad}- `, item, indent + BEST_INDENT));
      continue;
    }
    const inner = Array.isArray(item)
      ? sequenceLines(item, indent + BEST_INDENT, order)
      : mappingLines(item as Record<string, unknown>, indent + BEST_INDENT, order);
    out.push(`${pad}- ${inner[0]!.slice(indent + BEST_INDENT)}`, ...inner.slice(1));
  }
  return out;
}

/** The YAML document go-yaml v2 writes for a JSON value (ends with a newline). */
export function emitGoYaml(value: unknown, order: KeyOrder): string {
  const lines = Array.isArray(value)
    ? value.length > 0
      ? sequenceLines(value, 0, order)
      : ['[]']
    : isPlainObject(value)
      ? Object.keys(value).length > 0
        ? mappingLines(value, 0, order)
        : ['{}']
      : scalarLines('', value, BEST_INDENT);
  return `${lines.join('\n')}\n`;
}
