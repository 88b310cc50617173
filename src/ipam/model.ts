// The stored IPAM objects (ipam-core.md §2.1-2.3, §1.8) and their codecs in Calico's etcd JSON.
// Field order, names and omitempty behaviour follow libcalico-go's model structs, so a block we
// write decodes in Calico and re-encodes to the same bytes. Unknown fields are kept as they are.
import { CidrpoolError } from '../errors/index.js';
import type { IpamConfig } from './types.js';
import { parseJson, sortKeys, stringifyGo, type JsonValue } from './json.js';

/** One entry of a block's `attributes` (Go AllocationAttribute). */
export interface BlockAttribute {
  readonly handleId?: string;
  /** Active owner attributes (`secondary` in JSON). */
  readonly secondary?: Readonly<Record<string, string>>;
  readonly alternateOwnerAttrs?: Readonly<Record<string, string>>;
  /** RFC 3339, seconds precision: the address is cooling down since then. */
  readonly releasedAt?: string;
}

/** An allocation block value (Go AllocationBlock). Treated as immutable; block.ts returns copies. */
export interface Block {
  /** The CIDR text as stored. */
  readonly cidr: string;
  /** `host:<node>`, `virtual:<name>`, or null. */
  readonly affinity: string | null;
  readonly affinityClaimTime?: string;
  readonly allocations: readonly (number | null)[];
  /** FIFO of free ordinals. */
  readonly unallocated: readonly number[];
  readonly attributes: readonly BlockAttribute[];
  readonly sequenceNumber: bigint;
  /** Ordinal (decimal string) -> block sequence number when it was allocated. */
  readonly sequenceNumberForAllocation: Readonly<Record<string, bigint>>;
  readonly deleted: boolean;
  /** Fields we do not model (hostAffinity, strictAffinity, ...), written back as read. */
  readonly extra: Readonly<Record<string, JsonValue>>;
}

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion' | '';

export interface AffinityValue {
  readonly state: AffinityState;
  readonly deleted: boolean;
}

export interface HandleValue {
  /** Block CIDR -> number of allocations in it carrying the handle. */
  readonly block: Readonly<Record<string, number>>;
  readonly deleted: boolean;
}

const corrupt = (key: string, what: string): CidrpoolError =>
  new CidrpoolError('IPAM_CORRUPT_VALUE', `cannot decode ${key}: ${what}`, { details: { key } });

const asObject = (v: JsonValue, key: string, what: string): Record<string, JsonValue> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw corrupt(key, `${what} is not an object`);
  return v;
};

const asStringMap = (v: JsonValue | undefined, key: string): Record<string, string> | undefined => {
  if (v === undefined || v === null) return undefined;
  const o = asObject(v, key, 'attribute map');
  // JSON.parse made `o` for us alone: keep it when every value is already a string (the norm).
  for (const k in o) {
    if (typeof o[k] !== 'string') {
      const out: Record<string, string> = {};
      for (const [k2, x] of Object.entries(o)) out[k2] = typeof x === 'string' ? x : String(x);
      return out;
    }
  }
  return o as Record<string, string>;
};

const toBigInt = (v: JsonValue | undefined, key: string): bigint => {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw corrupt(key, 'sequence number is not an integer');
};

const BLOCK_FIELDS = new Set([
  'cidr',
  'affinity',
  'affinity_claim_time',
  'allocations',
  'unallocated',
  'attributes',
  'sequenceNumber',
  'sequenceNumberForAllocation',
  'deleted',
]);

/** JSON.parse, or parseJson's IPAM_CORRUPT_VALUE with a position when the text is bad. */
function parseNative(text: string, key: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return parseJson(text, key); // throws
  }
}

// The two 64-bit fields, re-read exactly from the text where JSON.parse rounded them. The
// patterns cannot match inside a JSON string (its quotes would be escaped), and the keys and
// values of sequenceNumberForAllocation are plain digits.
const SEQ_RE = /"sequenceNumber"\s*:\s*(\d+)/;
const SEQ_MAP_RE = /"sequenceNumberForAllocation"\s*:\s*\{([^{}]*)\}/;

function exactSequenceNumber(v: JsonValue | undefined, text: string, key: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v) && Number.isInteger(v)) {
    const m = SEQ_RE.exec(text);
    if (m) return BigInt(m[1]!);
  }
  return toBigInt(v, key);
}

/**
 * sequenceNumberForAllocation from JSON.parse's map (values checked to be integers or null):
 * safe integers convert directly, the rest are re-read exactly from the text.
 */
function exactSequenceMap(parsed: Record<string, JsonValue>, text: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  let exact: Map<string, bigint> | undefined;
  for (const k in parsed) {
    const v = parsed[k];
    if (typeof v !== 'number') {
      out[k] = 0n; // null
    } else if (Number.isSafeInteger(v)) {
      out[k] = BigInt(v);
    } else {
      if (exact === undefined) {
        exact = new Map();
        const m = SEQ_MAP_RE.exec(text);
        if (m)
          for (const e of m[1]!.matchAll(/"(\d+)"\s*:\s*(\d+)/g)) exact.set(e[1]!, BigInt(e[2]!));
      }
      out[k] = exact.get(k) ?? BigInt(v);
    }
  }
  return out;
}

/** Whether JSON.parse may have rounded a number in v (an integer beyond 2^53, or a big one). */
function hasUnsafeNumber(v: JsonValue): boolean {
  if (typeof v === 'number') return Math.abs(v) > Number.MAX_SAFE_INTEGER;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasUnsafeNumber);
  for (const k in v) if (hasUnsafeNumber(v[k]!)) return true;
  return false;
}

function numbers(v: JsonValue | undefined, nullable: boolean): (number | null)[] {
  if (!Array.isArray(v)) return [];
  // JSON.parse made the array for us alone: keep it when it holds only numbers (and nulls).
  for (const a of v) {
    if (typeof a !== 'number' && !(nullable && a === null))
      return v.map((x) => (nullable && x === null ? null : Number(x)));
  }
  return v as (number | null)[];
}

const define = (b: Block, value: Readonly<Record<string, bigint>>): void => {
  Object.defineProperty(b, 'sequenceNumberForAllocation', {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
};

/**
 * Decode a block's etcd JSON. Throws IPAM_CORRUPT_VALUE.
 *
 * Built for speed (every reader decodes every block it looks at): one JSON.parse, its arrays
 * and string maps kept rather than copied, and sequenceNumberForAllocation, whose exact
 * reading costs a bigint per allocation, materialised on first access (a getter that replaces
 * itself with the map); its values are checked to be integers here, so a bad map still fails
 * the decode. Until that access the block keeps a reference to `text`.
 */
export function decodeBlock(text: string, key = 'block'): Block {
  const o = asObject(parseNative(text, key), key, 'block');
  if (typeof o.cidr !== 'string') throw corrupt(key, 'cidr is missing');
  const attributes: BlockAttribute[] = [];
  if (Array.isArray(o.attributes)) {
    for (const a of o.attributes) {
      const ao = asObject(a, key, 'attribute');
      const attr: {
        handleId?: string;
        secondary?: Record<string, string>;
        alternateOwnerAttrs?: Record<string, string>;
        releasedAt?: string;
      } = {};
      if (typeof ao.handle_id === 'string') attr.handleId = ao.handle_id;
      if (ao.secondary != null) attr.secondary = asStringMap(ao.secondary, key);
      if (ao.alternateOwnerAttrs != null)
        attr.alternateOwnerAttrs = asStringMap(ao.alternateOwnerAttrs, key);
      if (typeof ao.releasedAt === 'string') attr.releasedAt = ao.releasedAt;
      attributes.push(attr);
    }
  }
  const rawMap = o.sequenceNumberForAllocation;
  const parsedMap: Record<string, JsonValue> =
    rawMap == null ? {} : asObject(rawMap, key, 'sequenceNumberForAllocation');
  for (const k in parsedMap) {
    const v = parsedMap[k];
    if (v !== null && !(typeof v === 'number' && Number.isInteger(v)))
      throw corrupt(key, 'sequence number is not an integer');
  }
  let extra: Record<string, JsonValue> = {};
  let inexact = false;
  for (const k in o) {
    if (BLOCK_FIELDS.has(k)) continue;
    extra[k] = o[k]!;
    inexact ||= hasUnsafeNumber(o[k]!);
  }
  if (inexact) {
    // A field we do not model holds an integer past 2^53: take them all from the exact parser.
    const exact = asObject(parseJson(text, key), key, 'block');
    extra = {};
    for (const k in exact) if (!BLOCK_FIELDS.has(k)) extra[k] = exact[k]!;
  }
  const block: Omit<Block, 'sequenceNumberForAllocation'> & { affinityClaimTime?: string } = {
    cidr: o.cidr,
    affinity: typeof o.affinity === 'string' ? o.affinity : null,
    allocations: numbers(o.allocations, true),
    unallocated: numbers(o.unallocated, false) as number[],
    attributes,
    sequenceNumber: exactSequenceNumber(o.sequenceNumber, text, key),
    deleted: o.deleted === true,
    extra,
  };
  if (typeof o.affinity_claim_time === 'string') block.affinityClaimTime = o.affinity_claim_time;
  return Object.defineProperty(block, 'sequenceNumberForAllocation', {
    configurable: true,
    enumerable: true,
    get(this: Block): Readonly<Record<string, bigint>> {
      const value = exactSequenceMap(parsedMap, text);
      define(this, value);
      return value;
    },
    set(this: Block, value: Readonly<Record<string, bigint>>) {
      define(this, value);
    },
  }) as Block;
}

const nonEmpty = (m: Readonly<Record<string, string>> | undefined) =>
  m && Object.keys(m).length > 0 ? sortKeys(m) : undefined;

/** Encode a block as Calico writes it to etcd (field order of the Go struct; maps sorted). */
export function encodeBlock(b: Block): string {
  const { hostAffinity, ...rest } = b.extra;
  return stringifyGo({
    cidr: b.cidr,
    affinity: b.affinity,
    affinity_claim_time: b.affinityClaimTime,
    allocations: b.allocations,
    unallocated: b.unallocated,
    attributes: b.attributes.map((a) => ({
      handle_id: a.handleId,
      secondary: nonEmpty(a.secondary),
      alternateOwnerAttrs: nonEmpty(a.alternateOwnerAttrs),
      releasedAt: a.releasedAt,
    })),
    sequenceNumber: b.sequenceNumber,
    sequenceNumberForAllocation: sortKeys(b.sequenceNumberForAllocation),
    deleted: b.deleted,
    ...(hostAffinity !== undefined ? { hostAffinity } : {}),
    ...rest,
  });
}

/** Decode an affinity value; an empty value is legal (legacy) and means state "". */
export function decodeAffinity(text: string, key = 'affinity'): AffinityValue {
  if (text.trim() === '') return { state: '', deleted: false };
  const o = asObject(parseJson(text, key), key, 'affinity');
  const state = typeof o.state === 'string' ? o.state : '';
  if (!['pending', 'confirmed', 'pendingDeletion', ''].includes(state))
    throw corrupt(key, `unknown affinity state "${state}"`);
  return { state: state as AffinityState, deleted: o.deleted === true || o.deleted === 'true' };
}

export const encodeAffinity = (state: AffinityState): string =>
  stringifyGo({ state, deleted: false });

export function decodeHandle(text: string, key = 'handle'): HandleValue {
  const o = asObject(parseJson(text, key), key, 'handle');
  const block: Record<string, number> = {};
  if (o.block != null)
    for (const [k, v] of Object.entries(asObject(o.block, key, 'handle block map')))
      block[k] = Number(v);
  return { block, deleted: o.deleted === true };
}

export const encodeHandle = (h: HandleValue): string =>
  stringifyGo({ block: sortKeys(h.block), deleted: h.deleted });

/** `/calico/ipam/v2/config`: every field omitempty (a false value is absent), ipam-core.md §1.8. */
export function decodeConfig(text: string, key = 'config'): IpamConfig {
  const o = asObject(parseJson(text, key), key, 'config');
  const persistence = o.kubeVirtVMAddressPersistence;
  return {
    strictAffinity: o.strict_affinity === true,
    autoAllocateBlocks: o.auto_allocate_blocks === true,
    maxBlocksPerHost: typeof o.maxBlocksPerHost === 'number' ? o.maxBlocksPerHost : 0,
    ...(persistence === 'Enabled' || persistence === 'Disabled'
      ? { kubeVirtVMAddressPersistence: persistence }
      : {}),
    ipCooldownSeconds: typeof o.ipCooldownSeconds === 'number' ? o.ipCooldownSeconds : 0,
  };
}

export function encodeConfig(c: IpamConfig): string {
  return stringifyGo({
    strict_affinity: c.strictAffinity || undefined,
    auto_allocate_blocks: c.autoAllocateBlocks || undefined,
    maxBlocksPerHost: c.maxBlocksPerHost || undefined,
    kubeVirtVMAddressPersistence: c.kubeVirtVMAddressPersistence || undefined,
    ipCooldownSeconds: c.ipCooldownSeconds || undefined,
  });
}
