// `ipam check` (ipam-core.md §4.9, surfaces.md §2.3): compare what IPAM records with what nodes
// and workloads use, and check every block's invariants. Read-only.
import { listAll } from '../datastore/api.js';
import { HANDLES_PREFIX, resourcePrefix } from '../datastore/keys.js';
import { formatIp, tryParseIp } from '../net/index.js';
import type { Node, WorkloadEndpoint } from '../resources/types.js';
import {
  checkBlockInvariants,
  cleanHandle,
  garbageCollect,
  isReservedHandle,
  ordinalToIp,
  parseAffinity,
} from './block.js';
import { listBlocks, readConfig } from './block-store.js';
import type { IpamContext } from './context.js';
import { findPoolOfIp, loadPools } from './pools.js';
import type { CheckAllocation, CheckInUseIp, CheckReport } from './types.js';

/** Run the check. Errors only come from reading the store (DS_*). */
export async function checkIpam(ctx: IpamContext): Promise<CheckReport> {
  const now = ctx.env.now();
  const config = await readConfig(ctx.store);
  const stored = await listBlocks(ctx.store);
  const blocks: CheckReport['blocks'][number][] = [];
  const invalidBlocks: { cidr: string; problems: string[] }[] = [];
  const allocationsByIp = new Map<string, Omit<CheckAllocation, 'inUse' | 'owners'>[]>();
  const handlesInBlocks = new Set<string>();
  const perNode = new Map<string, number>();
  const windowsReserved: CheckInUseIp[] = [];
  let allocationCount = 0;
  for (const s of stored) {
    const raw = s.value;
    const problems = checkBlockInvariants(raw, now);
    if (problems.length > 0) invalidBlocks.push({ cidr: raw.cidr, problems });
    let count = 0;
    // Cooldown as Calico sees it on load, but only for a valid block (GC needs the invariants).
    const b = problems.length === 0 ? garbageCollect(raw, config.ipCooldownSeconds, now) : raw;
    const owner = parseAffinity(b.affinity);
    b.allocations.forEach((idx, o) => {
      if (idx === null) return;
      count++;
      const attr = b.attributes[idx] ?? {};
      let ip: string;
      try {
        ip = formatIp(ordinalToIp(b, o));
      } catch {
        return;
      }
      const handle = attr.handleId;
      if (isReservedHandle(attr)) {
        windowsReserved.push({ ip, owner: 'Reserved for Windows' });
      } else if (handle !== undefined) handlesInBlocks.add(cleanHandle(handle));
      const sec = attr.secondary ?? {};
      const node = sec.node;
      if (node !== undefined) perNode.set(node, (perNode.get(node) ?? 0) + 1);
      const list = allocationsByIp.get(ip) ?? [];
      list.push({
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
      });
      allocationsByIp.set(ip, list);
    });
    allocationCount += count;
    blocks.push({
      cidr: raw.cidr,
      ...(raw.affinity ? { affinity: raw.affinity } : {}),
      allocations: count,
    });
  }

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
  for (const kv of await listAll(ctx.store, resourcePrefix('WorkloadEndpoint'))) {
    try {
      const w = JSON.parse(kv.value) as WorkloadEndpoint;
      const owner = `Workload(${w.metadata.namespace ?? 'default'}/${w.metadata.name})`;
      for (const net of w.spec?.ipNetworks ?? []) workloadIps.push({ ip: stripMask(net), owner });
    } catch {
      // As above.
    }
  }
  const owners = new Map<string, string[]>();
  for (const u of [...nodeTunnelIps, ...workloadIps, ...windowsReserved]) {
    const list = owners.get(u.ip) ?? [];
    list.push(u.owner);
    owners.set(u.ip, list);
  }
  const inUseCount = new Set([...nodeTunnelIps, ...workloadIps].map((u) => u.ip)).size;

  const allocations: Record<string, CheckAllocation[]> = {};
  const leakedIps: CheckAllocation[] = [];
  for (const [ip, list] of allocationsByIp) {
    const own = owners.get(ip) ?? [];
    allocations[ip] = list.map((a) => {
      const full: CheckAllocation = { ...a, inUse: own.length > 0, owners: own };
      if (!full.inUse && !full.coolingDown) leakedIps.push(full);
      return full;
    });
  }
  const multipleOwners = [...owners].filter(([, o]) => o.length > 1).map(([ip]) => ip);
  const notInPool: CheckInUseIp[] = [];
  const noAllocation: CheckInUseIp[] = [];
  for (const [ip, own] of owners) {
    if (own.every((o) => o === 'Reserved for Windows')) continue;
    const addr = tryParseIp(ip);
    const inPool = addr !== undefined && findPoolOfIp(pools, addr) !== undefined;
    for (const owner of own) {
      if (!inPool) notInPool.push({ ip, owner });
      else if (!allocationsByIp.has(ip)) noAllocation.push({ ip, owner });
    }
  }

  const handles = await listAll(ctx.store, HANDLES_PREFIX);
  const handleIds = new Set<string>();
  const leakedHandles: { id: string; revision: string }[] = [];
  for (const kv of handles) {
    const id = kv.key.slice(HANDLES_PREFIX.length);
    handleIds.add(id);
    if (!handlesInBlocks.has(id)) leakedHandles.push({ id, revision: kv.revision });
  }
  const missingHandles = [...handlesInBlocks].filter((h) => !handleIds.has(h)).sort();
  const ranked = [...perNode].map(([node, n]) => ({ node, allocations: n }));
  ranked.sort((a, b) => b.allocations - a.allocations || (a.node < b.node ? -1 : 1));
  const topNodes = ranked.slice(0, 20);
  return {
    blocks,
    allocationCount,
    activePools: pools.map((p) => p.cidrText),
    nodeTunnelIps,
    workloadIps,
    inUseCount,
    topNodes,
    ...(ranked.length > 0
      ? {
          maxNodeAllocations: ranked[0]!.allocations,
          medianNodeAllocations: ranked[Math.floor(ranked.length / 2)]!.allocations,
        }
      : {}),
    leakedIps,
    multipleOwners,
    notInPool,
    noAllocation,
    leakedHandles,
    handlesWithIps: [...handlesInBlocks].filter((h) => handleIds.has(h)).length,
    missingHandles,
    invalidBlocks,
    allocations,
    problemCount: leakedIps.length + notInPool.length + noAllocation.length + leakedHandles.length,
  };
}

const stripMask = (text: string): string => {
  const at = text.indexOf('/');
  const ip = tryParseIp(at < 0 ? text : text.slice(0, at));
  return ip ? formatIp(ip) : text;
};
