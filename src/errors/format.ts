import type { FieldIssue } from './types.js';

/** `spec.cidr: "10.0.0.7/24" has host bits set; the network address is "10.0.0.0/24"` */
export function formatFieldIssue(issue: FieldIssue): string {
  const value = issue.value === undefined ? '' : ` ${JSON.stringify(issue.value)}`;
  const hint = issue.hint ? `; ${issue.hint}` : '';
  return `${issue.path}:${value} ${issue.message}${hint}`;
}

/** A caret excerpt: the source line, then a caret under the (1-based) column. */
export function caretExcerpt(source: string, line: number, column: number): string {
  const text = source.split(/\r?\n/)[line - 1] ?? '';
  return `${text}\n${' '.repeat(Math.max(0, column - 1))}^`;
}
