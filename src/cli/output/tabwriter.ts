// The table layout of `calicoctl get` (surfaces.md §1.6): Go text/tabwriter with min width 5,
// tab width 1, padding 3, padded with spaces, every cell tab-terminated. So each column is as
// wide as its widest cell plus 3 (at least 5), every line carries trailing spaces, and a blank
// line follows each table.

const MIN_WIDTH = 5;
const PADDING = 3;

/** Width of a cell in runes, as tabwriter counts it (calicoctl does not use wide-char mode). */
const runeLength = (text: string): number => [...text].length;

/** Render header plus rows as calicoctl's tabwriter does, followed by one empty line. */
export function renderTabTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  // A stored object that was written by something else may hold a number or null where a
  // string belongs: print it as text rather than fail the whole listing.
  const all = [headers, ...rows].map((row) =>
    row.map((cell: unknown) => (typeof cell === 'string' ? cell : String(cell ?? ''))),
  );
  const columns = Math.max(...all.map((row) => row.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    let width = MIN_WIDTH;
    for (const row of all) {
      const cell = row[c];
      if (cell !== undefined) width = Math.max(width, runeLength(cell) + PADDING);
    }
    widths.push(width);
  }
  const lines = all.map((row) =>
    row.map((cell, c) => cell + ' '.repeat(widths[c]! - runeLength(cell))).join(''),
  );
  return `${lines.join('\n')}\n\n`;
}
