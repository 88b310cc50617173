// Public surface of src/selector. CONTRACT: other modules import only from here.
import type { SelectorNode } from './ast.js';
import { evaluateSelectorNode } from './evaluate.js';
import { parseSelectorTree } from './parser.js';
import { printSelectorNode } from './printer.js';
import {
  SelectorSyntaxError,
  toSelectorError,
  toSelectorIssue,
  type SelectorIssue,
} from './syntax-error.js';

export type { SelectorNode } from './ast.js';
export { MAX_LABEL_LENGTH, isValidLabel } from './ast.js';
export type { SelectorIssue } from './syntax-error.js';
export { evaluateSelectorNode } from './evaluate.js';
export { printSelectorNode } from './printer.js';
export { MAX_NESTING } from './parser.js';

/** A parsed Calico selector. */
export interface Selector {
  /** The text as given. */
  readonly source: string;
  /** Evaluate against a label map (absent labels follow Calico's truth rules). */
  matches(labels: Readonly<Record<string, string>>): boolean;
  /** Canonical form (surfaces.md §4.4); `all()` for an empty selector. */
  toString(): string;
}

class ParsedSelector implements Selector {
  private canonical: string | undefined;

  constructor(
    readonly source: string,
    readonly root: SelectorNode,
  ) {}

  matches(labels: Readonly<Record<string, string>>): boolean {
    return evaluateSelectorNode(this.root, labels);
  }

  toString(): string {
    this.canonical ??= printSelectorNode(this.root);
    return this.canonical;
  }
}

/**
 * Parse a selector (surfaces.md §4). An empty or whitespace-only text is `all()`.
 *
 * @throws CidrpoolError SEL_SYNTAX with Calico's wording (`expected ==`, `unterminated string`,
 *   `expected operator after label "x"`, …) followed by what was found, `position` (line 1, the
 *   1-based column) and a caret `excerpt`.
 */
export function parseSelector(text: string): Selector {
  try {
    return new ParsedSelector(text, parseSelectorTree(text));
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw toSelectorError(text, error);
    throw error;
  }
}

/** Parse, returning undefined instead of throwing. */
export function tryParseSelector(text: string): Selector | undefined {
  try {
    return new ParsedSelector(text, parseSelectorTree(text));
  } catch (error) {
    if (error instanceof SelectorSyntaxError) return undefined;
    throw error;
  }
}

/**
 * Checks selector syntax without throwing, for validators that collect every issue.
 *
 * @returns undefined when the text parses; otherwise the message (Calico's wording, then what
 *   was found and the fix), the 1-based column and a caret excerpt.
 */
export function validateSelectorText(text: string): SelectorIssue | undefined {
  try {
    parseSelectorTree(text);
    return undefined;
  } catch (error) {
    if (error instanceof SelectorSyntaxError) return toSelectorIssue(text, error);
    throw error;
  }
}

/** The tree of a selector returned by parseSelector (for tools that inspect selectors). */
export function getSelectorTree(selector: Selector): SelectorNode {
  const parsed = selector instanceof ParsedSelector ? selector : parseSelector(selector.source);
  return (parsed as ParsedSelector).root;
}
