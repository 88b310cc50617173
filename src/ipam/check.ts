// `ipam check` (ipam-core.md §4.9, surfaces.md §2.3): compare what IPAM records with what nodes
// and workloads use, and check every block's invariants. Read-only.
//
// Cost: one listing each of blocks, pools, nodes, workload endpoints and handles (keys only),
// then integer loops over the allocations. What only the detailed outputs need (one object per allocation:
// `allocations` for `-o`, `leakedIps` for --show-problem-ips) is built on first access, so a plain
// `ipam check` on a big cluster formats no address that nobody uses.
import { listAll, listKeys, type KeyValue } from '../datastore/api.js';
import { HANDLES_PREFIX, resourcePrefix } from '../datastore/keys.js';
import type { Cidr } from '../net/index.js';
import { addressAt, formatIp, tryParseIp } from '../net/index.js';
import type { Node, WorkloadEndpoint } from '../resources/types.js';
import {
  blockCidr,
  checkBlockInvariants,
  cleanHandle,
  isReservedHandle,
  parseAffinity,
  WINDOWS_RESERVED_HANDLE,
} from './block.js';
import { collectCooledDown, forEachBlock } from './block-scan.js';
import { readConfig } from './block-store.js';
import type { IpamContext } from './context.js';
import { decodeBlock, type Block, type BlockAttribute } from './model.js';
import { findPoolOfIp, loadPools } from './pools.js';
import { allocationBelongsTo } from './endpoint-handle.js';
import type { CheckAllocation, CheckInUseIp, CheckReport, StaleEndpoint } from './types.js';

const WINDOWS_OWNER = 'Reserved for Windows';

/** The addresses of a block's ordinals without bigint work per address. */
interface Addresser {
  /** Ordinals 0..size-1 have an address; the others (a broken block) have none. */
  readonly size: number;
  /** IPv4: the base address as a number, so ordinal o is `base + o`. */
  readonly base4?: number;
  readonly cidr: Cidr;
}

function addresserOf(b: Block): Addresser | undefined {
  let cidr: Cidr;
  try {
    cidr = blockCidr(b);
  } catch {
    return undefined; // no ordinal has an address (ordinalToIp throws for every one)
  }
  const bits = (cidr.family === 4 ? 32 : 128) - cidr.prefix;
  const size = bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits;
  return cidr.family === 4 ? { size, base4: Number(cidr.base), cidr } : { size, cidr };
}

const ipText = (a: Addresser, o: number): string =>
  a.base4 !== undefined ? formatIpv4Number(a.base4 + o) : formatIp(addressAt(a.cidr, o));

const formatIpv4Number = (v: number): string =>
  `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/**
 * A block as the check scanned it: its addresser, and its allocated ordinals that have an
 * address (`ordinal * 2 + 1` when cooling down, `ordinal * 2` otherwise). The decoded block is
 * not kept: the details decode the stored text again.
 */
interface ScannedBlock {
  readonly stored: KeyValue;
  readonly valid: boolean;
  readonly addresser: Addresser | undefined;
  readonly ordinals: Int32Array;
  /** The attribute of each of `ordinals`, in the same order (undefined: none). */
  readonly attributes: readonly (BlockAttribute | undefined)[];
}

/** A WorkloadEndpoint as the check needs it: who it is, and the revision a cleanup deletes at. */
interface EndpointSeen {
  readonly name: string;
  readonly namespace: string;
  readonly revision: string;
  readonly containerId?: string;
  readonly pod?: string;
}

/** Run the check. Errors only come from reading the store (DS_*). */
export async function checkIpam(ctx: IpamContext): Promise<CheckReport> {
  const now = ctx.env.now();
  const config = await readConfig(ctx.store);
  const blocks: CheckReport['blocks'][number][] = [];
  const scanned: ScannedBlock[] = [];
  const invalidBlocks: { cidr: string; problems: string[] }[] = [];
  const handlesInBlocks = new Set<string>();
  const perNode = new Map<string, number>();
  const windowsReserved: CheckInUseIp[] = [];
  let allocationCount = 0;
  await forEachBlock(ctx.store, (raw, stored) => {
    const problems = checkBlockInvariants(raw, now);
    if (problems.length > 0) invalidBlocks.push({ cidr: raw.cidr, problems });
    let count = 0;
    // Cooldown as Calico sees it on load, but only for a valid block (GC needs the invariants).
    const b = problems.length === 0 ? collectCooledDown(raw, config.ipCooldownSeconds, now) : raw;
    const addresser = addresserOf(b);
    const { allocations, attributes } = b;
    const ordinals: number[] = [];
    const ordinalAttributes: (BlockAttribute | undefined)[] = [];
    let runNode: string | undefined;
    let run = 0;
    for (let o = 0; o < allocations.length; o++) {
      const idx = allocations[o];
      if (idx === null || idx === undefined) continue;
      count++;
      if (addresser === undefined || o >= addresser.size) continue; // no address: skipped
      const attr = attributes[idx];
      ordinals.push(attr?.releasedAt !== undefined ? o * 2 + 1 : o * 2);
      ordinalAttributes.push(attr);
      if (attr === undefined) continue; // `{}`: no handle, no node
      const handle = attr.handleId;
      if (handle !== undefined) {
        // The length test first: a handle lower-casing to the reserved one has its length.
        if (handle.length === WINDOWS_RESERVED_HANDLE.length && isReservedHandle(attr))
          windowsReserved.push({ ip: ipText(addresser, o), owner: WINDOWS_OWNER });
        else handlesInBlocks.add(cleanHandle(handle));
      }
      // Counted in runs: the allocations of a block mostly share one node.
      const node = attr.secondary?.node;
      if (node === runNode) run++;
      else {
        if (runNode !== undefined) perNode.set(runNode, (perNode.get(runNode) ?? 0) + run);
        runNode = node;
        run = 1;
      }
    }
    if (runNode !== undefined) perNode.set(runNode, (perNode.get(runNode) ?? 0) + run);
    scanned.push({
      stored,
      valid: problems.length === 0,
      addresser,
      ordinals: Int32Array.from(ordinals),
      attributes: ordinalAttributes,
    });
    allocationCount += count;
    blocks.push({
      cidr: raw.cidr,
      ...(raw.affinity ? { affinity: raw.affinity } : {}),
      allocations: count,
    });
  });

  const pools = (await loadPools(ctx.store)).filter((p) => p.enabled);
  const nodeTunnelIps: CheckInUseIp[] = [];
  for (const kv of await listAll(ctx.store, resourcePrefix('Node'))) {
    try {
      const n = JSON.parse(kv.value) as Node;
      const owner = `Node(${n.metadata.name})`;
      // Calico reads only these IPv4 tunnel addresses (ipam-core.md §6 item 18).
      for (const a of [
        n.spec?.ipv4VXLANTunnelAddr,
        n.spec?.wireguard?.interfaceIPv4Address,
        n.spec?.bgp?.ipv4IPIPTunnelAddr,
      ])
        if (a) nodeTunnelIps.push({ ip: stripMask(a), owner });
    } catch {
      // A Node that does not decode uses no address we can see.
    }
  }
  const workloadIps: CheckInUseIp[] = [];
  const endpoints = new Map<string, EndpointSeen>();
  for (const kv of await listAll(ctx.store, resourcePrefix('WorkloadEndpoint'))) {
    try {
      const w = JSON.parse(kv.value) as WorkloadEndpoint;
      const namespace = w.metadata.namespace ?? 'default';
      const owner = `Workload(${namespace}/${w.metadata.name})`;
      endpoints.set(owner, {
        name: w.metadata.name,
        namespace,
        revision: kv.revision,
        containerId: w.spec?.containerID,
        pod: w.spec?.pod,
      });
      for (const net of w.spec?.ipNetworks ?? []) workloadIps.push({ ip: stripMask(net), owner });
    } catch {
      // As above.
    }
  }
  const owners = new Map<string, string[]>();
  for (const list of [nodeTunnelIps, workloadIps, windowsReserved]) {
    for (const u of list) {
      const own = owners.get(u.ip);
      if (own) own.push(u.owner);
      else owners.set(u.ip, [u.owner]);
    }
  }
  const inUseCount = new Set([...nodeTunnelIps, ...workloadIps].map((u) => u.ip)).size;
  // The same owner lists by IPv4 address as a number, for lookups without formatting.
  const owners4 = new Map<number, string[]>();
  for (const [ip, own] of owners) {
    const addr = tryParseIp(ip);
    if (addr?.family === 4 && formatIp(addr) === ip) owners4.set(Number(addr.value), own);
  }

  // Leaked addresses (counted here, listed on demand) and the owned addresses with an allocation.
  // An endpoint whose address is allocated to another handle, or cooling down after a
  // release, names an address it does not hold (a stale endpoint).
  let leakedCount = 0;
  const allocatedOwned = new Set<string[]>();
  const foreignEndpoints: StaleEndpoint[] = [];
  for (const { addresser, ordinals, attributes } of scanned) {
    if (addresser === undefined) continue;
    for (let i = 0; i < ordinals.length; i++) {
      const x = ordinals[i]!;
      const o = x >> 1;
      const own =
        owners.size === 0
          ? undefined
          : addresser.base4 !== undefined
            ? owners4.get(addresser.base4 + o)
            : owners.get(formatIp(addressAt(addresser.cidr, o)));
      if (own === undefined) {
        if ((x & 1) === 0) leakedCount++;
        continue;
      }
      allocatedOwned.add(own);
      const attr = attributes[i];
      const handle = attr?.handleId === undefined ? undefined : cleanHandle(attr.handleId);
      const coolingDown = (x & 1) === 1;
      if (handle === undefined && !coolingDown) continue; // no handle: no owner to compare
      for (const owner of own) {
        const e = endpoints.get(owner);
        if (e === undefined) continue;
        if (!coolingDown && allocationBelongsTo(handle!, attr?.secondary, e)) continue;
        const ip = ipText(addresser, o);
        foreignEndpoints.push({
          ...endpointRef(e, ip),
          reason: coolingDown ? 'released' : 'foreign',
          ...(handle !== undefined && !coolingDown ? { handle } : {}),
        });
      }
    }
  }

  const multipleOwners = [...owners].filter(([, o]) => o.length > 1).map(([ip]) => ip);
  const notInPool: CheckInUseIp[] = [];
  const noAllocation: CheckInUseIp[] = [];
  const freeEndpoints: StaleEndpoint[] = [];
  for (const [ip, own] of owners) {
    if (own.every((o) => o === WINDOWS_OWNER)) continue;
    const addr = tryParseIp(ip);
    const inPool = addr !== undefined && findPoolOfIp(pools, addr) !== undefined;
    for (const owner of own) {
      if (!inPool) notInPool.push({ ip, owner });
      else if (!allocatedOwned.has(own)) {
        noAllocation.push({ ip, owner });
        const e = endpoints.get(owner);
        if (e !== undefined) freeEndpoints.push({ ...endpointRef(e, ip), reason: 'free' });
      }
    }
  }

  // Handle keys are unique, so the handles with IPs are the matches, and when every handle the
  // blocks mention matched, none is missing.
  // Only their names and revisions matter: a keys-only listing, values left unread.
  const handles = await listKeys(ctx.store, HANDLES_PREFIX, 5000);
  const leakedHandles: { id: string; revision: string }[] = [];
  let handlesWithIps = 0;
  for (const kv of handles) {
    const id = kv.key.slice(HANDLES_PREFIX.length);
    if (handlesInBlocks.has(id)) handlesWithIps++;
    else leakedHandles.push({ id, revision: kv.revision });
  }
  let missingHandles: string[] = [];
  if (handlesWithIps < handlesInBlocks.size) {
    const handleIds = new Set(handles.map((kv) => kv.key.slice(HANDLES_PREFIX.length)));
    missingHandles = [...handlesInBlocks].filter((h) => !handleIds.has(h)).sort();
  }
  const ranked = [...perNode].map(([node, n]) => ({ node, allocations: n }));
  ranked.sort((a, b) => b.allocations - a.allocations || (a.node < b.node ? -1 : 1));
  const topNodes = ranked.slice(0, 20);

  let details: AllocationDetails | undefined;
  const detailsOf = (): AllocationDetails =>
    (details ??= allocationDetails(scanned, owners, config.ipCooldownSeconds, now));
  return {
    blocks,
    allocationCount,
    activePools: pools.map((p) => p.cidrText),
    nodeTunnelIps,
    workloadIps,
    inUseCount,
    topNodes,
    nodeAllocations: ranked,
    ...(ranked.length > 0
      ? {
          maxNodeAllocations: ranked[0]!.allocations,
          medianNodeAllocations: ranked[Math.floor(ranked.length / 2)]!.allocations,
        }
      : {}),
    get leakedIps() {
      return detailsOf().leakedIps;
    },
    multipleOwners,
    notInPool,
    noAllocation,
    leakedHandles,
    handlesWithIps,
    missingHandles,
    invalidBlocks,
    get allocations() {
      return detailsOf().allocations;
    },
    leakedCount,
    staleEndpoints: [...foreignEndpoints, ...freeEndpoints],
    foreignEndpointCount: foreignEndpoints.length,
    // Calico's four counts, plus what it leaves out: addresses with several owners and
    // endpoints on addresses of another handle (issue 15).
    problemCount:
      leakedCount +
      notInPool.length +
      noAllocation.length +
      leakedHandles.length +
      multipleOwners.length +
      foreignEndpoints.length,
  };
}

const endpointRef = (e: EndpointSeen, ip: string) => ({
  ip,
  name: e.name,
  namespace: e.namespace,
  revision: e.revision,
});

interface AllocationDetails {
  readonly allocations: Record<string, CheckAllocation[]>;
  readonly leakedIps: CheckAllocation[];
}

/** One object per allocation, grouped by address (blocks in key order, then ordinal order). */
function allocationDetails(
  scanned: readonly ScannedBlock[],
  owners: ReadonlyMap<string, readonly string[]>,
  cooldownSeconds: number,
  now: number,
): AllocationDetails {
  const byIp = new Map<string, CheckAllocation[]>();
  const leakedIps: CheckAllocation[] = [];
  for (const { stored, valid, addresser } of scanned) {
    if (addresser === undefined) continue;
    const raw = decodeBlock(stored.value, stored.key);
    const b = valid ? collectCooledDown(raw, cooldownSeconds, now) : raw;
    const owner = parseAffinity(b.affinity);
    const n = Math.min(b.allocations.length, addresser.size);
    for (let o = 0; o < n; o++) {
      const idx = b.allocations[o];
      if (idx === null || idx === undefined) continue;
      const attr = b.attributes[idx] ?? {};
      const ip = ipText(addresser, o);
      const handle = attr.handleId;
      const sec = attr.secondary ?? {};
      const node = sec.node;
      const own = owners.get(ip) ?? [];
      const a: CheckAllocation = {
        ip,
        blockCidr: b.cidr,
        ...(handle !== undefined ? { handle } : {}),
        sequenceNumber: b.sequenceNumberForAllocation[String(o)] ?? 0n,
        ...(sec.pod !== undefined ? { pod: sec.pod } : {}),
        ...(sec.namespace !== undefined ? { namespace: sec.namespace } : {}),
        ...(node !== undefined ? { node } : {}),
        ...(sec.type !== undefined ? { type: sec.type } : {}),
        ...(sec.timestamp !== undefined ? { creationTimestamp: sec.timestamp } : {}),
        attrs: sec,
        ...(attr.alternateOwnerAttrs ? { alternateAttrs: attr.alternateOwnerAttrs } : {}),
        borrowed: node !== undefined && owner?.type === 'host' && node !== owner.host,
        coolingDown: attr.releasedAt !== undefined,
        inUse: own.length > 0,
        owners: own,
      };
      const list = byIp.get(ip);
      if (list) list.push(a);
      else byIp.set(ip, [a]);
    }
  }
  // Leaked addresses are listed grouped by address, as the address map is walked.
  const allocations: Record<string, CheckAllocation[]> = {};
  for (const [ip, list] of byIp) {
    allocations[ip] = list;
    for (const a of list) if (!a.inUse && !a.coolingDown) leakedIps.push(a);
  }
  return { allocations, leakedIps };
}

const stripMask = (text: string): string => {
  const at = text.indexOf('/');
  const ip = tryParseIp(at < 0 ? text : text.slice(0, at));
  return ip ? formatIp(ip) : text;
};
