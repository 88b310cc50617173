import type { FieldIssue } from './types.js';

/** Longest value or source line an error message echoes (a bad input can be megabytes). */
export const MAX_ECHO = 120;

/** `text` as JSON, cut to about MAX_ECHO characters with a note of its full length. */
export function quoteBounded(text: string): string {
  if (text.length <= MAX_ECHO) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, MAX_ECHO))}... (${text.length} characters)`;
}

/** `spec.cidr: "10.0.0.7/24" has host bits set; the network address is "10.0.0.0/24"` */
export function formatFieldIssue(issue: FieldIssue): string {
  const value =
    issue.value === undefined
      ? ''
      : ` ${typeof issue.value === 'string' ? quoteBounded(issue.value) : boundedJson(issue.value)}`;
  const hint = issue.hint ? `; ${issue.hint}` : '';
  return `${issue.path}:${value} ${issue.message}${hint}`;
}

function boundedJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_ECHO
    ? text
    : `${text.slice(0, MAX_ECHO)}... (${text.length} characters)`;
}

/**
 * A caret excerpt: the source line, then a caret under the (1-based) column. A long line is
 * cut to a window of about MAX_ECHO characters around the column, `...` marking each cut.
 */
export function caretExcerpt(source: string, line: number, column: number): string {
  const text = nthLine(source, line);
  const at = Math.max(0, column - 1);
  if (text.length <= MAX_ECHO) return `${text}\n${' '.repeat(at)}^`;
  const start = Math.max(0, Math.min(at - MAX_ECHO / 2, text.length - MAX_ECHO));
  const end = Math.min(text.length, start + MAX_ECHO);
  const head = start > 0 ? '...' : '';
  const tail = end < text.length ? '...' : '';
  return `${head}${text.slice(start, end)}${tail}\n${' '.repeat(head.length + at - start)}^`;
}

/** Line `line` (1-based) of `source`, found without splitting the whole text. */
function nthLine(source: string, line: number): string {
  let from = 0;
  for (let n = 1; n < line; n++) {
    const next = source.indexOf('\n', from);
    if (next < 0) return '';
    from = next + 1;
  }
  const to = source.indexOf('\n', from);
  return source.slice(from, to < 0 ? source.length : to).replace(/\r$/, '');
}
