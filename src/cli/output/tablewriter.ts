// The table layout of `calicoctl ipam show` (surfaces.md §2.1): olekukonko/tablewriter v0.0.5
// defaults. `+`/`-` borders, `| cell |` framing, centred upper-case headers (floor of the gap on
// the left), numeric cells right-aligned, everything else left-aligned.

const NUMERIC = /^-?(\d{1,3}(,\d{3})*|\d+)(\.\d+)?$/;

const runeLength = (text: string): number => [...text].length;

/** tablewriter's Title(): `_` becomes a space, then upper case. */
const titleOf = (header: string): string => header.replace(/_/g, ' ').trim().toUpperCase() || ' ';

function centre(text: string, width: number): string {
  const gap = width - runeLength(text);
  if (gap <= 0) return text;
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + text + ' '.repeat(gap - left);
}

function align(text: string, width: number): string {
  const gap = Math.max(0, width - runeLength(text));
  return NUMERIC.test(text) ? ' '.repeat(gap) + text : text + ' '.repeat(gap);
}

/**
 * Render a bordered table; no blank line follows it. Cells longer than 30 characters are not
 * word-wrapped (tablewriter would wrap those that contain spaces; ipam show never has any).
 */
export function renderBoxTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const titles = headers.map(titleOf);
  const widths = titles.map((title, c) =>
    Math.max(runeLength(title), ...rows.map((row) => runeLength(row[c] ?? ''))),
  );
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const out = [border, line(titles.map((t, c) => centre(t, widths[c]!))), border];
  for (const row of rows) out.push(line(widths.map((w, c) => align(row[c] ?? '', w))));
  out.push(border);
  return `${out.join('\n')}\n`;
}
