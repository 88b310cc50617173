// Block map: every possible block of a pool in address order on a canvas. Hover or move the
// keyboard cursor to read a block (CIDR, node, used/free); click or press Enter to list its
// addresses.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BlockDetail, PoolView, Snapshot } from '../../src/http/api-types.js';
import {
  cellAt,
  claimedIndex,
  FILL_COLOURS,
  FILL_STEPS,
  FREE_COLOUR,
  layoutGrid,
  NODE_COLOURS,
  paintGrid,
  UNAFFINE_COLOUR,
  type ColourMode,
  type GridLayout,
} from '../block-grid.js';
import { groupDigits, ipv4Number, ipv4Text, percent, shortCount } from '../format.js';
import { routeHref, type RoutedViewProps } from '../route.js';
import { useApi } from '../use-api.js';
import { Shortened } from './shortened.js';
import { TableHead } from './table-head.js';

interface CellInfo {
  readonly cell: number;
  /** Index in the pool's map arrays, or -1 for a free block. */
  readonly block: number;
  readonly cidr: string;
  readonly text: string;
}

/** The CIDR of the free block at `slot` (IPv4 pools drawn in full; otherwise a position). */
function freeCidr(pool: PoolView, slot: number): string {
  const [base, prefix] = pool.cidr.split('/');
  const start = pool.family === 4 ? ipv4Number(base!) : undefined;
  if (start === undefined || prefix === undefined) return `free block #${slot + 1}`;
  return `${ipv4Text(start + slot * 2 ** (32 - pool.blockSize))}/${pool.blockSize}`;
}

function describe(snapshot: Snapshot, pool: PoolView, index: Int32Array, cell: number): CellInfo {
  const b = index[cell] ?? -1;
  const map = pool.map;
  if (b < 0) {
    const cidr = freeCidr(pool, cell);
    return { cell, block: -1, cidr, text: `${cidr}: free (not claimed by any node)` };
  }
  const node =
    map.node[b]! >= 0
      ? `node ${snapshot.nodeNames[map.node[b]!]}`
      : map.affinity[b]
        ? map.affinity[b]!
        : 'no affinity';
  const used = map.used[b]!;
  const capacity = map.capacity[b]!;
  return {
    cell,
    block: b,
    cidr: map.cidr[b]!,
    text: `${map.cidr[b]}: ${node}; ${used} used, ${capacity - used} free of ${capacity} (${percent(used / capacity)})`,
  };
}

function Legend({
  mode,
  snapshot,
  pool,
}: {
  mode: ColourMode;
  snapshot: Snapshot;
  pool: PoolView;
}) {
  const nodes = [...new Set(pool.map.node)].filter((n) => n >= 0).sort((a, b) => a - b);
  const swatch = (colour: string, label: string) => (
    <li key={label}>
      <span class="swatch" style={{ background: colour }} aria-hidden="true" />
      {label}
    </li>
  );
  const steps = [0, ...FILL_STEPS];
  return (
    <ul class="legend" aria-label="Legend">
      {swatch(FREE_COLOUR, 'free (not claimed)')}
      {mode === 'fill'
        ? FILL_COLOURS.map((c, i) =>
            swatch(
              c,
              `${Math.round(steps[i]! * 100)}–${i + 1 < steps.length ? Math.round(steps[i + 1]! * 100) : 100} % used`,
            ),
          )
        : [
            ...nodes
              .slice(0, 12)
              .map((n) => swatch(NODE_COLOURS[n % NODE_COLOURS.length]!, snapshot.nodeNames[n]!)),
            ...(nodes.length > 12
              ? [<li key="more">… {nodes.length - 12} more nodes (colours repeat)</li>]
              : []),
            ...(pool.map.node.some((n) => n < 0)
              ? [swatch(UNAFFINE_COLOUR, 'no node affinity')]
              : []),
          ]}
    </ul>
  );
}

function BlockTable({ detail }: { detail: BlockDetail }) {
  return (
    <div class="table-wrap">
      <table data-testid="block-addresses">
        <caption>
          {detail.addresses.length} allocated address{detail.addresses.length === 1 ? '' : 'es'}
        </caption>
        <TableHead
          columns={['IP', 'Handle', 'Pod', 'Namespace', 'Node', 'Timestamp', 'Reserved']}
        />
        <tbody>
          {detail.addresses.map((a) => (
            <tr key={a.ip}>
              <td class="mono">{a.ip}</td>
              <td class="mono small">
                <Shortened text={a.handle} />
              </td>
              <td>{a.pod ?? '—'}</td>
              <td>{a.namespace ?? '—'}</td>
              <td>{a.node ?? '—'}</td>
              <td class="small">{a.timestamp ?? '—'}</td>
              <td>
                {a.reserved ? 'yes' : 'no'}
                {a.coolingDown ? ' (released, cooling down)' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function BlockMapView({ snapshot, route, token }: RoutedViewProps) {
  const pool = snapshot.pools.find((p) => p.name === route.arg) ?? snapshot.pools[0];
  const [mode, setMode] = useState<ColourMode>('fill');
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ info: CellInfo; x: number; y: number }>();
  const [cursor, setCursor] = useState(0);
  const [selected, setSelected] = useState<CellInfo>();
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const cursorMark = useRef<HTMLDivElement>(null);

  // The width available, followed as the window resizes.
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    observer.observe(el);
    setWidth(Math.floor(el.clientWidth));
    return () => observer.disconnect();
  }, [pool?.name]);

  const layout: GridLayout | undefined = useMemo(
    () => (pool && width > 0 ? layoutGrid(pool.map.cells, width) : undefined),
    [pool?.map.cells, width],
  );
  const index = useMemo(() => (pool ? claimedIndex(pool.map) : new Int32Array(0)), [pool]);

  useEffect(() => {
    const el = canvas.current;
    if (!el || !layout || !pool) return;
    el.width = layout.width;
    el.height = layout.height;
    const ctx = el.getContext('2d');
    if (!ctx) return;
    const started = performance.now();
    const image = ctx.createImageData(layout.width, layout.height);
    paintGrid(image, layout, pool.map, mode);
    ctx.putImageData(image, 0, 0);
    // For benchmarks and tests: which snapshot is on the canvas, and what painting it cost.
    el.dataset.paintMs = (performance.now() - started).toFixed(2);
    el.dataset.painted = String(snapshot.version);
    performance.mark('cidrpool:blockmap-painted');
  }, [layout, pool, mode, snapshot.version]);

  // The keyboard's cursor stays in sight: the page scrolls when it leaves the window.
  useEffect(() => {
    if (document.activeElement === canvas.current)
      cursorMark.current?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [cursor]);

  // A block named in the address (#map/pool?block=CIDR, from Search) is selected once.
  const wantedBlock = route.params.get('block');
  useEffect(() => {
    if (!pool || !wantedBlock) return;
    const b = pool.map.cidr.indexOf(wantedBlock);
    if (b >= 0) {
      setCursor(pool.map.slot[b]!);
      setSelected(describe(snapshot, pool, index, pool.map.slot[b]!));
    }
  }, [pool?.name, wantedBlock]);

  // The selected block's addresses, read again with every snapshot so they stay live.
  const { data: detail, error: detailError } = useApi<BlockDetail>(
    selected && selected.block >= 0
      ? `/api/block?cidr=${encodeURIComponent(selected.cidr)}`
      : undefined,
    token,
    snapshot.version,
  );

  if (!pool)
    return (
      <section>
        <h1>Block map</h1>
        <p>No IP pools yet.</p>
      </section>
    );

  const cursorInfo = describe(snapshot, pool, index, Math.min(cursor, pool.map.cells - 1));
  const open = (cell: number): void => setSelected(describe(snapshot, pool, index, cell));
  const nextClaimed = (from: number, step: 1 | -1): number => {
    for (let i = from + step; i >= 0 && i < index.length; i += step) if (index[i]! >= 0) return i;
    return from;
  };
  const onKey = (e: KeyboardEvent): void => {
    if (!layout) return;
    const last = pool.map.cells - 1;
    const moves: Record<string, () => number> = {
      ArrowRight: () => cursor + 1,
      ArrowLeft: () => cursor - 1,
      ArrowDown: () => cursor + layout.cols,
      ArrowUp: () => cursor - layout.cols,
      PageDown: () => cursor + layout.cols * 8,
      PageUp: () => cursor - layout.cols * 8,
      Home: () => 0,
      End: () => last,
      n: () => nextClaimed(cursor, 1),
      p: () => nextClaimed(cursor, -1),
    };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open(cursor);
      return;
    }
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    setCursor(Math.max(0, Math.min(last, move())));
  };
  const cursorBox =
    layout &&
    (() => {
      const c = Math.min(cursor, pool.map.cells - 1);
      return {
        left: (c % layout.cols) * layout.cell - 1,
        top: Math.floor(c / layout.cols) * layout.cell - 1,
        size: Math.max(3, layout.cell - layout.gap) + 2,
      };
    })();

  return (
    <section aria-labelledby="map-title">
      <h1 id="map-title">Block map</h1>
      <div class="map-controls">
        <label>
          Pool{' '}
          <select
            value={pool.name}
            onChange={(e) => {
              location.hash = routeHref('map', e.currentTarget.value);
              setSelected(undefined);
              setCursor(0);
            }}
          >
            {snapshot.pools.map((p) => (
              <option value={p.name} key={p.name}>
                {p.name} ({p.cidr})
              </option>
            ))}
          </select>
        </label>
        <fieldset class="mode">
          <legend>Colour by</legend>
          {(['fill', 'node'] as const).map((m) => (
            <label key={m}>
              <input
                type="radio"
                name="mode"
                value={m}
                checked={mode === m}
                onChange={() => setMode(m)}
              />
              {m === 'fill' ? 'fill' : 'node'}
            </label>
          ))}
        </fieldset>
      </div>
      <p class="hint" data-testid="map-summary">
        {pool.cidr} in /{pool.blockSize} blocks: {groupDigits(pool.blocksClaimed)} of{' '}
        {shortCount(pool.blocksPossible)} claimed, {groupDigits(pool.inUse)} addresses in use.{' '}
        {pool.map.mode === 'claimed'
          ? 'The pool has too many possible blocks to draw: the claimed ones are shown in address order, without the gaps.'
          : 'Every possible block, in address order, row by row.'}{' '}
        Keys: arrows move, n / p jump to the next / previous claimed block, Enter lists its
        addresses.
      </p>
      <Legend mode={mode} snapshot={snapshot} pool={pool} />
      <div class="map-wrap" ref={wrap}>
        <div
          class="map-stage"
          style={layout ? { width: `${layout.width}px`, height: `${layout.height}px` } : undefined}
        >
          <canvas
            ref={canvas}
            data-testid="block-map"
            tabIndex={0}
            role="img"
            aria-label={`Block map of pool ${pool.name}; use the arrow keys to move between blocks`}
            aria-describedby="map-cursor"
            onMouseMove={(e) => {
              if (!layout) return;
              const cell = cellAt(layout, e.offsetX, e.offsetY);
              setHover(
                cell < 0
                  ? undefined
                  : { info: describe(snapshot, pool, index, cell), x: e.offsetX, y: e.offsetY },
              );
            }}
            onMouseLeave={() => setHover(undefined)}
            onClick={(e) => {
              if (!layout) return;
              const cell = cellAt(layout, e.offsetX, e.offsetY);
              if (cell >= 0) {
                setCursor(cell);
                open(cell);
              }
            }}
            onKeyDown={onKey}
          />
          {cursorBox && (
            <div
              ref={cursorMark}
              class="map-cursor"
              aria-hidden="true"
              style={{
                left: `${cursorBox.left}px`,
                top: `${cursorBox.top}px`,
                width: `${cursorBox.size}px`,
                height: `${cursorBox.size}px`,
              }}
            />
          )}
          {hover && (
            <div
              class="tooltip"
              role="tooltip"
              data-testid="map-tooltip"
              style={{
                left: `${Math.min(hover.x + 14, Math.max(0, (layout?.width ?? 0) - 260))}px`,
                top: `${hover.y + 14}px`,
              }}
            >
              {hover.info.text}
            </div>
          )}
        </div>
      </div>
      <p id="map-cursor" class="cursor-text" aria-live="polite">
        Cursor: {cursorInfo.text}
      </p>
      {selected && (
        <section class="card detail" aria-labelledby="detail-title" data-testid="block-detail">
          <h2 id="detail-title">
            Block {selected.cidr}
            <button
              type="button"
              class="close"
              aria-label="Close the block details"
              onClick={() => setSelected(undefined)}
            >
              ×
            </button>
          </h2>
          {selected.block < 0 ? (
            <p>Free: no node has claimed this block yet.</p>
          ) : detailError ? (
            <p class="bad" role="alert">
              {detailError}
            </p>
          ) : !detail ? (
            <p>Reading the block…</p>
          ) : (
            <>
              <p>
                Pool {detail.pool ?? '—'} · affinity {detail.affinity || 'none'} · {detail.inUse}{' '}
                used, {detail.capacity - detail.inUse} free of {detail.capacity}
                {detail.reservedByReservations > 0
                  ? ` · ${detail.reservedByReservations} reserved by IPReservations`
                  : ''}
              </p>
              <BlockTable detail={detail} />
            </>
          )}
        </section>
      )}
    </section>
  );
}
