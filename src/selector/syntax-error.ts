import { CidrpoolError } from '../errors/index.js';

/**
 * A syntax error found by the tokenizer or the parser, before it is placed in its source text.
 * Internal to src/selector: parseSelector turns it into a CidrpoolError SEL_SYNTAX, so callers
 * only ever see the one error class of cidrpool.
 */
export class SelectorSyntaxError extends Error {
  /**
   * @param reason Calico's own wording (`expected ==`, `unterminated string`, …).
   * @param offset UTF-16 index in the source where the problem is.
   * @param detail What was found and, where it can be worked out, how to fix it.
   */
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly detail?: string,
  ) {
    super(reason);
    this.name = 'SelectorSyntaxError';
  }
}

/** A selector syntax problem, for validators that collect issues instead of throwing. */
export interface SelectorIssue {
  /** Calico's wording first, then in parentheses what was found and how to fix it. */
  readonly message: string;
  /** 1-based column, counted in Unicode code points. */
  readonly column: number;
  /** The selector on one line with a caret under the column. */
  readonly excerpt: string;
}

/**
 * The selector on one line and a caret under `offset`. Unlike errors/format.ts `caretExcerpt`,
 * it keeps a selector with a line break (legal inside a string literal) on one line, and copies
 * tabs into the caret line so the caret stays aligned whatever the tab width.
 */
export function renderSelectorExcerpt(text: string, offset: number): string {
  const line = text.replace(/[\r\n]/g, '\u21b5');
  const before = [...text.slice(0, offset)].map((ch) => (ch === '\t' ? '\t' : ' ')).join('');
  return `${line}\n${before}^`;
}

/** Describes a syntax error at its place in `text`. */
export function toSelectorIssue(text: string, error: SelectorSyntaxError): SelectorIssue {
  return {
    message: error.detail === undefined ? error.reason : `${error.reason} (${error.detail})`,
    column: [...text.slice(0, error.offset)].length + 1,
    excerpt: renderSelectorExcerpt(text, error.offset),
  };
}

/** The CidrpoolError SEL_SYNTAX for a syntax error in `text`. */
export function toSelectorError(text: string, error: SelectorSyntaxError): CidrpoolError {
  const issue = toSelectorIssue(text, error);
  return new CidrpoolError(
    'SEL_SYNTAX',
    `invalid selector ${JSON.stringify(text)} at column ${issue.column}: ${issue.message}`,
    {
      position: { line: 1, column: issue.column },
      excerpt: issue.excerpt,
      details: { selector: text, reason: error.reason },
    },
  );
}
