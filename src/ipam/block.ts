// Pure operations on one allocation block value (Calico's ipam_block.go): assign, release,
// cooldown garbage collection, counts and the invariants of ipam-core.md §2.1. No I/O: every
// function returns a new block and leaves its argument untouched.
import { CidrpoolError } from '../errors/index.js';
import type { Cidr, IpAddress } from '../net/index.js';
import {
  addressAt,
  cidrContainsIp,
  cidrSize,
  formatCidr,
  formatIp,
  ordinalOf,
  parseCidr,
} from '../net/index.js';
import type { Block, BlockAttribute } from './model.js';
import type { Reservations } from './reservations.js';

/** The Windows host-reserved handle: its allocations never make a block non-empty. */
export const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle';
export const WINDOWS_RESERVED_NOTE = 'windows host rsvd';

/** Ordinals reserved at the start and end of every new block (Windows: 3 and 1). */
export interface HostReservedAttr {
  readonly startOfBlock: number;
  readonly endOfBlock: number;
  readonly handle: string;
  readonly note: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MutableBlock = Mutable<
  Omit<Block, 'allocations' | 'unallocated' | 'attributes' | 'sequenceNumberForAllocation'>
> & {
  allocations: (number | null)[];
  unallocated: number[];
  attributes: BlockAttribute[];
  sequenceNumberForAllocation: Record<string, bigint>;
};

const clone = (b: Block): MutableBlock => ({
  ...b,
  allocations: [...b.allocations],
  unallocated: [...b.unallocated],
  attributes: [...b.attributes],
  sequenceNumberForAllocation: { ...b.sequenceNumberForAllocation },
});

const cidrCache = new Map<string, Cidr>();
/** The parsed CIDR of a block (an address without a prefix is read as a single address). */
export function blockCidr(b: Block): Cidr {
  let c = cidrCache.get(b.cidr);
  if (!c) {
    c = parseCidr(b.cidr.includes('/') ? b.cidr : `${b.cidr}/${b.cidr.includes(':') ? 128 : 32}`);
    if (cidrCache.size > 100_000) cidrCache.clear();
    cidrCache.set(b.cidr, c);
  }
  return c;
}

/** RFC 3339 with seconds precision, as Go's metav1.Time marshals. */
export const formatTime = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * A new, empty block (Calico newBlock): all free, `unallocated` ascending, the sequence number
 * given (a nanosecond timestamp, so a re-created block never repeats one). With a host-reserved
 * attribute the first/last ordinals are allocated to one note attribute (no handle object).
 */
export function newBlock(
  cidr: Cidr,
  options: {
    readonly sequenceNumber: bigint;
    readonly affinity?: string | null;
    readonly claimTime?: string;
    readonly hostReserved?: HostReservedAttr;
  },
): Block {
  const n = Number(cidrSize(cidr));
  const allocations: (number | null)[] = new Array<number | null>(n).fill(null);
  let unallocated = Array.from({ length: n }, (_, i) => i);
  const attributes: BlockAttribute[] = [];
  const r = options.hostReserved;
  if (r && (r.startOfBlock > 0 || r.endOfBlock > 0)) {
    attributes.push({ handleId: r.handle, secondary: { note: r.note } });
    for (let i = 0; i < r.startOfBlock && i < n; i++) allocations[i] = 0;
    for (let i = Math.max(0, n - r.endOfBlock); i < n; i++) allocations[i] = 0;
    unallocated = unallocated.filter((o) => allocations[o] === null);
  }
  return {
    cidr: formatCidr(cidr),
    affinity: options.affinity ?? null,
    ...(options.claimTime ? { affinityClaimTime: options.claimTime } : {}),
    allocations,
    unallocated,
    attributes,
    sequenceNumber: options.sequenceNumber,
    sequenceNumberForAllocation: {},
    deleted: false,
    extra: {},
  };
}

/** The address at an ordinal of the block. */
export const ordinalToIp = (b: Block, ordinal: number): IpAddress =>
  addressAt(blockCidr(b), ordinal);

/** The ordinal of an address, or undefined when the block does not contain it. */
export function ipToOrdinal(b: Block, ip: IpAddress): number | undefined {
  const c = blockCidr(b);
  return cidrContainsIp(c, ip) ? ordinalOf(c, ip) : undefined;
}

/** `10.0.0.5/26`: an address with its block's mask, as AutoAssign returns them. */
export const ipWithMask = (b: Block, ordinal: number): string =>
  `${formatIp(ordinalToIp(b, ordinal))}/${blockCidr(b).prefix}`;

/** Handle ids are cleaned on release: everything from the first `\r` is dropped (Calico §2.3). */
export const cleanHandle = (h: string): string => {
  const at = h.indexOf('\r');
  return at < 0 ? h : h.slice(0, at);
};

/** The attribute is the Windows host reservation's (its handle compared case-insensitively). */
export const isReservedHandle = (a: BlockAttribute | undefined): boolean =>
  a?.handleId?.toLowerCase() === WINDOWS_RESERVED_HANDLE;

/** Empty: every allocated ordinal is Windows-reserved. A cooling-down ordinal makes it non-empty. */
export function isEmpty(b: Block): boolean {
  for (const a of b.allocations) if (a !== null && !isReservedHandle(b.attributes[a])) return false;
  return true;
}

/** Free addresses usable by AutoAssign: `unallocated` minus reserved addresses (NumFreeAddresses). */
export function freeCount(b: Block, reservations?: Reservations): number {
  if (!reservations || reservations.none) return b.unallocated.length;
  const c = blockCidr(b);
  if (reservations.coversWhole(c)) return 0;
  if (!reservations.matchesSome(c)) return b.unallocated.length;
  return b.unallocated.filter((o) => !reservations.matchesIp(ordinalToIp(b, o))).length;
}

/** Allocated ordinals, cooling-down and Windows-reserved ones included (utilisation's InUse). */
export const inUseCount = (b: Block): number => b.allocations.length - b.unallocated.length;

/** `host:node1` -> { type: 'host', host: 'node1' } (any `<type>:` prefix). */
export function parseAffinity(affinity: string | null): { type: string; host: string } | undefined {
  if (!affinity) return undefined;
  const at = affinity.indexOf(':');
  return at < 0 ? undefined : { type: affinity.slice(0, at), host: affinity.slice(at + 1) };
}

/** Calico's updateBlock: every Update adds 1 to the sequence number (a Create does not). */
export const bumpSequence = (b: Block): Block => ({ ...b, sequenceNumber: b.sequenceNumber + 1n });

/**
 * Cooldown garbage collection (Calico garbageCollect, HEAD): free cooled ordinals in ascending
 * order (append to `unallocated`, drop their sequence number), then compact the attributes.
 * Returns the block unchanged (same object) when nothing changed.
 */
export function garbageCollect(b: Block, cooldownSeconds: number, nowMs: number): Block {
  const m = clone(b);
  let changed = false;
  for (let o = 0; o < m.allocations.length; o++) {
    const idx = m.allocations[o];
    if (idx === null || idx === undefined) continue;
    const at = m.attributes[idx]?.releasedAt;
    if (at === undefined) continue;
    if (cooldownSeconds < 0 || Date.parse(at) < nowMs - cooldownSeconds * 1000) {
      freeOrdinal(m, o);
      changed = true;
    }
  }
  if (compactAttributes(m)) changed = true;
  return changed ? m : b;
}

function freeOrdinal(m: MutableBlock, o: number): void {
  m.allocations[o] = null;
  m.unallocated.push(o);
  delete m.sequenceNumberForAllocation[String(o)];
}

/** Remove unreferenced attributes and renumber the rest, keeping their order. */
function compactAttributes(m: MutableBlock): boolean {
  const used = new Array<boolean>(m.attributes.length).fill(false);
  for (const a of m.allocations) if (a !== null && a < used.length) used[a] = true;
  if (used.every(Boolean)) return false;
  const remap: number[] = [];
  const attrs: BlockAttribute[] = [];
  m.attributes.forEach((a, i) => {
    if (used[i]) {
      remap[i] = attrs.length;
      attrs.push(a);
    }
  });
  m.attributes = attrs;
  m.allocations = m.allocations.map((a) => (a === null ? null : (remap[a] ?? a)));
  return true;
}

const sameMap = (a?: Readonly<Record<string, string>>, b?: Readonly<Record<string, string>>) => {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

/** Reuse an attribute exactly equal to {handle, attrs} (no alternate owner, no releasedAt), or add one. */
function findOrAddAttribute(
  m: MutableBlock,
  handleId: string | undefined,
  attrs?: Readonly<Record<string, string>>,
): number {
  const secondary = attrs && Object.keys(attrs).length > 0 ? attrs : undefined;
  const found = m.attributes.findIndex(
    (a) =>
      a.handleId === handleId &&
      a.alternateOwnerAttrs === undefined &&
      a.releasedAt === undefined &&
      sameMap(a.secondary, secondary),
  );
  if (found >= 0) return found;
  m.attributes.push({
    ...(handleId !== undefined ? { handleId } : {}),
    ...(secondary ? { secondary: { ...secondary } } : {}),
  });
  return m.attributes.length - 1;
}

/** The affinity check of strictAffinity (Calico §3.9 step 2). Throws IPAM_AFFINITY_MISMATCH. */
export function checkAffinity(b: Block, affinity: string): void {
  if (b.affinity === null)
    throw new CidrpoolError(
      'IPAM_AFFINITY_MISMATCH',
      `Attempt to assign from block ${b.cidr} with no affinity`,
    );
  if (b.affinity !== affinity) {
    const p = parseAffinity(affinity);
    throw new CidrpoolError(
      'IPAM_AFFINITY_MISMATCH',
      `Block affinity (${b.affinity}) does not match provided (${p?.host}:${p?.type})`,
    );
  }
}

/**
 * Take up to `num` free ordinals from the front of `unallocated`, skipping (and leaving in
 * place) reserved addresses; all share one attribute; each records the block's current
 * sequence number. Returns the ordinals taken (possibly fewer than `num`, or none when full).
 * Throws IPAM_AFFINITY_MISMATCH when `affinityCheck` and the block is not ours.
 */
export function assignFromBlock(
  b: Block,
  request: {
    readonly num: number;
    readonly handleId?: string;
    readonly attrs?: Readonly<Record<string, string>>;
    readonly affinity: string;
    readonly affinityCheck: boolean;
    readonly reservations?: Reservations;
  },
): { block: Block; ordinals: number[] } {
  if (request.affinityCheck) checkAffinity(b, request.affinity);
  const m = clone(b);
  const taken: number[] = [];
  const rest: number[] = [];
  const res = request.reservations && !request.reservations.none ? request.reservations : undefined;
  const partly = res?.matchesSome(blockCidr(b)) ?? false;
  for (const o of m.unallocated) {
    if (taken.length >= request.num || (partly && res!.matchesIp(ordinalToIp(b, o)))) rest.push(o);
    else taken.push(o);
  }
  if (taken.length === 0) return { block: b, ordinals: [] };
  const attr = findOrAddAttribute(m, request.handleId, request.attrs);
  for (const o of taken) {
    m.allocations[o] = attr;
    m.sequenceNumberForAllocation[String(o)] = b.sequenceNumber;
  }
  m.unallocated = rest;
  return { block: m, ordinals: taken };
}

/**
 * Assign one given ordinal (AssignIP). Reservations are not checked (Calico keeps this).
 * Throws IPAM_ALREADY_ASSIGNED when allocated or cooling down, IPAM_AFFINITY_MISMATCH.
 */
export function assignOrdinal(
  b: Block,
  ordinal: number,
  request: {
    readonly handleId?: string;
    readonly attrs?: Readonly<Record<string, string>>;
    readonly affinity: string;
    readonly affinityCheck: boolean;
  },
): Block {
  if (request.affinityCheck) {
    if (b.affinity === null)
      throw new CidrpoolError(
        'IPAM_AFFINITY_MISMATCH',
        `Attempt to assign from block ${b.cidr} with no affinity`,
      );
    if (b.affinity !== request.affinity)
      throw new CidrpoolError('IPAM_AFFINITY_MISMATCH', 'Block host affinity does not match');
  }
  if (b.allocations[ordinal] !== null && b.allocations[ordinal] !== undefined)
    throw new CidrpoolError('IPAM_ALREADY_ASSIGNED', 'Address already assigned in block', {
      details: { ip: formatIp(ordinalToIp(b, ordinal)), block: b.cidr },
    });
  const m = clone(b);
  m.allocations[ordinal] = findOrAddAttribute(m, request.handleId, request.attrs);
  m.unallocated = m.unallocated.filter((o) => o !== ordinal);
  m.sequenceNumberForAllocation[String(ordinal)] = b.sequenceNumber;
  return m;
}

/** Point the ordinals at one new `{releasedAt}` attribute, then collect what has cooled down. */
function coolDown(
  m: MutableBlock,
  ordinals: readonly number[],
  nowMs: number,
  cooldownSeconds: number,
  setSeq: boolean,
): Block {
  if (ordinals.length === 0) return m;
  if (cooldownSeconds <= 0) {
    // With cooldown 0 Calico frees them in the same write (in practice); we free them always,
    // in ascending ordinal order, so the result does not depend on the clock's sub-second value.
    for (const o of [...ordinals].sort((x, y) => x - y)) freeOrdinal(m, o);
    compactAttributes(m);
    return m;
  }
  m.attributes.push({ releasedAt: formatTime(nowMs) });
  const idx = m.attributes.length - 1;
  for (const o of ordinals) {
    m.allocations[o] = idx;
    if (setSeq) m.sequenceNumberForAllocation[String(o)] = m.sequenceNumber;
  }
  compactAttributes(m);
  return garbageCollect(m, cooldownSeconds, nowMs);
}

export interface BlockReleaseItem {
  readonly ordinal: number;
  readonly handleId?: string;
  readonly sequenceNumber?: bigint;
}

/**
 * Release ordinals (Calico block.release, HEAD). Duplicates are merged. A sequence-number or
 * handle mismatch fails the whole batch (IPAM_BAD_SEQUENCE_NUMBER / IPAM_BAD_HANDLE) and nothing
 * changes. Free or cooling-down ordinals are returned as `unallocated`.
 * `countByHandle` counts released ordinals per (cleaned) handle, for the handle decrements.
 */
export function releaseFromBlock(
  b: Block,
  items: readonly BlockReleaseItem[],
  nowMs: number,
  cooldownSeconds: number,
): { block: Block; released: number[]; unallocated: number[]; countByHandle: Map<string, number> } {
  const seen = new Set<number>();
  const released: number[] = [];
  const unallocated: number[] = [];
  const countByHandle = new Map<string, number>();
  for (const item of items) {
    if (seen.has(item.ordinal)) continue;
    seen.add(item.ordinal);
    const o = item.ordinal;
    if (item.sequenceNumber !== undefined) {
      const stored = b.sequenceNumberForAllocation[String(o)] ?? 0n;
      if (stored !== item.sequenceNumber)
        throw new CidrpoolError(
          'IPAM_BAD_SEQUENCE_NUMBER',
          `IP ${formatIp(ordinalToIp(b, o))} has sequence number ${stored}, not the expected ${item.sequenceNumber}`,
          { details: { block: b.cidr } },
        );
    }
    const idx = b.allocations[o];
    const attr = idx === null || idx === undefined ? undefined : b.attributes[idx];
    if (!attr || attr.releasedAt !== undefined) {
      unallocated.push(o);
      continue;
    }
    const stored = attr.handleId === undefined ? undefined : cleanHandle(attr.handleId);
    // As Calico, an empty handle (after cleaning) means "not given".
    const wanted = item.handleId === undefined ? '' : cleanHandle(item.handleId);
    if (wanted !== '' && wanted !== stored)
      throw new CidrpoolError(
        'IPAM_BAD_HANDLE',
        `IP ${formatIp(ordinalToIp(b, o))} is held by handle ${stored ?? '<none>'}, not ${wanted}`,
        { details: { block: b.cidr } },
      );
    released.push(o);
    if (stored !== undefined) countByHandle.set(stored, (countByHandle.get(stored) ?? 0) + 1);
  }
  if (released.length === 0) return { block: b, released, unallocated, countByHandle };
  const block = coolDown(clone(b), released, nowMs, cooldownSeconds, true);
  return { block, released, unallocated, countByHandle };
}

/** Ordinals held under a handle (cooling-down ordinals have no handle, so they are left out). */
export function ordinalsOfHandle(b: Block, handleId: string): number[] {
  const h = cleanHandle(handleId);
  const out: number[] = [];
  b.allocations.forEach((a, o) => {
    const id = a === null ? undefined : b.attributes[a]?.handleId;
    if (id !== undefined && cleanHandle(id) === h) out.push(o);
  });
  return out;
}

/** Release every ordinal of a handle (Calico releaseByHandle on a block). */
export function releaseHandleFromBlock(
  b: Block,
  handleId: string,
  nowMs: number,
  cooldownSeconds: number,
): { block: Block; released: number[] } {
  const released = ordinalsOfHandle(b, handleId);
  if (released.length === 0) return { block: b, released };
  // releaseByHandle does not record per-ordinal sequence numbers for cooling ordinals (§2.6).
  return { block: coolDown(clone(b), released, nowMs, cooldownSeconds, false), released };
}

/** The block without affinity (releaseBlockAffinity on a non-empty block). */
export const clearAffinity = (b: Block): Block => {
  const { affinityClaimTime: _drop, ...rest } = b;
  return { ...rest, affinity: null };
};

/** Every way the block breaks the invariants of ipam-core.md §2.1 (empty when valid). */
export function checkBlockInvariants(b: Block, nowMs: number): string[] {
  const problems: string[] = [];
  let expected: number | undefined;
  try {
    expected = Number(cidrSize(blockCidr(b)));
  } catch {
    problems.push(`invalid CIDR "${b.cidr}"`);
  }
  const n = b.allocations.length;
  if (expected !== undefined && n !== expected)
    problems.push(`has ${n} allocations, expected ${expected}`);
  const referenced = new Array<boolean>(b.attributes.length).fill(false);
  let allocated = 0;
  b.allocations.forEach((a, o) => {
    if (a === null) return;
    allocated++;
    if (!Number.isInteger(a) || a < 0 || a >= b.attributes.length)
      problems.push(`ordinal ${o} points at missing attribute ${a}`);
    else referenced[a] = true;
  });
  referenced.forEach((r, i) => {
    if (!r) problems.push(`attribute ${i} is not referenced`);
  });
  const seen = new Set<number>();
  for (const o of b.unallocated) {
    if (!Number.isInteger(o) || o < 0 || o >= n)
      problems.push(`unallocated ordinal ${o} is out of range`);
    else if (seen.has(o)) problems.push(`unallocated ordinal ${o} appears twice`);
    else if (b.allocations[o] !== null) problems.push(`unallocated ordinal ${o} is allocated`);
    seen.add(o);
  }
  if (b.unallocated.length + allocated !== n)
    problems.push(`${b.unallocated.length} unallocated + ${allocated} allocated != ${n} addresses`);
  b.attributes.forEach((a, i) => {
    if (a.releasedAt !== undefined && Date.parse(a.releasedAt) > nowMs + 1000)
      problems.push(`attribute ${i} releasedAt ${a.releasedAt} is in the future`);
  });
  return problems;
}
