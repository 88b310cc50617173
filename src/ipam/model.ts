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
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = typeof x === 'string' ? x : String(x);
  return out;
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

/**
 * Parse block JSON fast: the native parser for everything, then the two 64-bit fields re-read
 * exactly from the text. The patterns cannot match inside a JSON string (its quotes would be
 * escaped), and map keys and values of sequenceNumberForAllocation are plain digits.
 */
function parseBlockJson(text: string, key: string): JsonValue {
  let o: JsonValue;
  try {
    o = JSON.parse(text) as JsonValue;
  } catch {
    return parseJson(text, key); // throws IPAM_CORRUPT_VALUE with a position
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return o;
  const seq = /"sequenceNumber"\s*:\s*(\d+)/.exec(text);
  if (seq) o.sequenceNumber = BigInt(seq[1]!);
  const map = /"sequenceNumberForAllocation"\s*:\s*\{([^{}]*)\}/.exec(text);
  if (map) {
    const exact: Record<string, JsonValue> = {};
    for (const m of map[1]!.matchAll(/"(\d+)"\s*:\s*(\d+)/g)) exact[m[1]!] = BigInt(m[2]!);
    o.sequenceNumberForAllocation = exact;
  }
  return o;
}

/** Decode a block's etcd JSON. Throws IPAM_CORRUPT_VALUE. */
export function decodeBlock(text: string, key = 'block'): Block {
  const o = asObject(parseBlockJson(text, key), key, 'block');
  if (typeof o.cidr !== 'string') throw corrupt(key, 'cidr is missing');
  const allocations = Array.isArray(o.allocations)
    ? o.allocations.map((a) => (a === null ? null : Number(a)))
    : [];
  const unallocated = Array.isArray(o.unallocated) ? o.unallocated.map((a) => Number(a)) : [];
  const attributes: BlockAttribute[] = [];
  if (Array.isArray(o.attributes)) {
    for (const a of o.attributes) {
      const ao = asObject(a, key, 'attribute');
      attributes.push({
        ...(typeof ao.handle_id === 'string' ? { handleId: ao.handle_id } : {}),
        ...(ao.secondary != null ? { secondary: asStringMap(ao.secondary, key) } : {}),
        ...(ao.alternateOwnerAttrs != null
          ? { alternateOwnerAttrs: asStringMap(ao.alternateOwnerAttrs, key) }
          : {}),
        ...(typeof ao.releasedAt === 'string' ? { releasedAt: ao.releasedAt } : {}),
      });
    }
  }
  const seqMap: Record<string, bigint> = {};
  if (o.sequenceNumberForAllocation != null) {
    for (const [k, v] of Object.entries(asObject(o.sequenceNumberForAllocation, key, 'map')))
      seqMap[k] = toBigInt(v, key);
  }
  const extra: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(o)) if (!BLOCK_FIELDS.has(k)) extra[k] = v;
  return {
    cidr: o.cidr,
    affinity: typeof o.affinity === 'string' ? o.affinity : null,
    ...(typeof o.affinity_claim_time === 'string'
      ? { affinityClaimTime: o.affinity_claim_time }
      : {}),
    allocations,
    unallocated,
    attributes,
    sequenceNumber: toBigInt(o.sequenceNumber, key),
    sequenceNumberForAllocation: seqMap,
    deleted: o.deleted === true,
    extra,
  };
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
