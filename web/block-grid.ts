// The block map's geometry and pixels, apart from the view: where each block sits (address order,
// row by row, a power of two per row so that each row is an aligned CIDR range) and its colour.
// Painted straight into an ImageData, so 262,144 blocks cost one pass over the pixels.
import type { BlockMapData } from '../src/http/api-types.js';

export interface GridLayout {
  readonly cells: number;
  readonly cols: number;
  readonly rows: number;
  /** Pixels per cell, gap included. */
  readonly cell: number;
  /** Pixels of gap on the right and bottom of each cell. */
  readonly gap: number;
  readonly width: number;
  readonly height: number;
}

const MAX_CELL = 28;
const MAX_HEIGHT = 640;

const pow2Floor = (n: number): number => 2 ** Math.floor(Math.log2(Math.max(1, n)));
const pow2Ceil = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The largest cells that fit `maxWidth` and keep the map under MAX_HEIGHT (at least 1 px). */
export function layoutGrid(cells: number, maxWidth: number): GridLayout {
  let cell = MAX_CELL;
  let cols = 1;
  for (; cell >= 1; cell--) {
    cols = Math.min(pow2Floor(maxWidth / cell), pow2Ceil(cells));
    if (Math.ceil(cells / cols) * cell <= MAX_HEIGHT || cell === 1) break;
  }
  cell = Math.max(1, cell);
  const rows = Math.max(1, Math.ceil(cells / cols));
  const gap = cell >= 6 ? 1 : 0;
  return { cells, cols, rows, cell, gap, width: cols * cell, height: rows * cell };
}

/** The cell under a point of the canvas, or -1. */
export function cellAt(layout: GridLayout, x: number, y: number): number {
  const col = Math.floor(x / layout.cell);
  const row = Math.floor(y / layout.cell);
  if (col < 0 || row < 0 || col >= layout.cols || row >= layout.rows) return -1;
  const i = row * layout.cols + col;
  return i < layout.cells ? i : -1;
}

/** For each cell, the index of its block in `map`'s arrays, or -1 for a free block. */
export function claimedIndex(map: BlockMapData): Int32Array {
  const index = new Int32Array(map.cells).fill(-1);
  for (let i = 0; i < map.slot.length; i++) index[map.slot[i]!] = i;
  return index;
}

export type ColourMode = 'fill' | 'node';

/** Colour-blind-safe categories (Okabe and Ito) for nodes, black left out. */
export const NODE_COLOURS = [
  '#E69F00',
  '#56B4E9',
  '#009E73',
  '#0072B2',
  '#D55E00',
  '#CC79A7',
  '#F0E442',
  '#8C6D31',
];
export const FREE_COLOUR = '#EDF0F3';
export const UNAFFINE_COLOUR = '#6C757D';
/** Fill levels, light to dark: 0-25, 25-50, 50-75, 75-90, 90-100 %. */
export const FILL_COLOURS = ['#74A9CF', '#3690C0', '#0570B0', '#045A8D', '#023858'];
export const FILL_STEPS = [0.25, 0.5, 0.75, 0.9];

export const fillLevel = (fraction: number): number => {
  let level = 0;
  while (level < FILL_STEPS.length && fraction >= FILL_STEPS[level]!) level++;
  return level;
};

const rgba = (hex: string, alpha = 255): number => {
  const v = parseInt(hex.slice(1), 16);
  // ImageData is RGBA in memory; a little-endian Uint32 reads it as ABGR.
  return ((alpha << 24) | ((v & 255) << 16) | (v & 0xff00) | ((v >> 16) & 255)) >>> 0;
};
/** `hex` mixed with white (a lighter tint for the unused part of a block). */
const tint = (hex: string, keep: number): number => {
  const v = parseInt(hex.slice(1), 16);
  const mix = (c: number): number => Math.round(c * keep + 255 * (1 - keep));
  return rgba(
    `#${[(v >> 16) & 255, (v >> 8) & 255, v & 255]
      .map(mix)
      .map((c) => c.toString(16).padStart(2, '0'))
      .join('')}`,
  );
};

/**
 * Paint every cell into `image` (layout.width x layout.height). A claimed block large enough
 * (8 px and up) shows its fill as a bar from the bottom, so fullness reads without colour.
 */
export function paintGrid(
  image: ImageData,
  layout: GridLayout,
  map: BlockMapData,
  mode: ColourMode,
): void {
  const px = new Uint32Array(image.data.buffer);
  const { cell, gap, cols, width } = layout;
  const inner = cell - gap;
  const background = rgba('#FFFFFF');
  px.fill(background);
  const free = rgba(FREE_COLOUR);
  const solid = new Map<string, [number, number]>();
  const colours = (hex: string): [number, number] => {
    let c = solid.get(hex);
    if (!c) solid.set(hex, (c = [rgba(hex), tint(hex, 0.45)]));
    return c;
  };
  // A claimed block with a bar also gets a frame in its full colour, so an empty claimed block
  // does not look like a free one.
  const paintCell = (
    i: number,
    full: number,
    light: number,
    usedRows: number,
    frame: boolean,
  ): void => {
    const x0 = (i % cols) * cell;
    const y0 = Math.floor(i / cols) * cell;
    for (let y = 0; y < inner; y++) {
      const edge = frame && (y === 0 || y === inner - 1);
      const colour = edge || y >= inner - usedRows ? full : light;
      const row = (y0 + y) * width + x0;
      for (let x = 0; x < inner; x++) px[row + x] = colour;
      if (frame) {
        px[row] = full;
        px[row + inner - 1] = full;
      }
    }
  };
  const claimed = claimedIndex(map);
  const bars = inner >= 8;
  for (let i = 0; i < layout.cells; i++) {
    const b = claimed[i]!;
    if (b < 0) {
      paintCell(i, free, free, 0, false);
      continue;
    }
    const fraction = map.capacity[b]! > 0 ? map.used[b]! / map.capacity[b]! : 0;
    const hex =
      mode === 'fill'
        ? FILL_COLOURS[fillLevel(fraction)]!
        : map.node[b]! < 0
          ? UNAFFINE_COLOUR
          : NODE_COLOURS[map.node[b]! % NODE_COLOURS.length]!;
    const [full, light] = colours(hex);
    if (!bars) paintCell(i, full, full, inner, false);
    else
      paintCell(i, full, light, Math.max(fraction > 0 ? 1 : 0, Math.round(fraction * inner)), true);
  }
}
