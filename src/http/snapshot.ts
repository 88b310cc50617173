// One picture of the datastore for the dashboard, built from the engine's own reports: pool and
// block numbers from getUtilization (what `ipam show --show-blocks` prints), per-node counts and
// problems from check (what `ipam check` prints), borrowed addresses from listBorrowed
// (`ipam show --show-borrowed`). Nothing here counts addresses a second way.
import { listAll, type Datastore } from '../datastore/api.js';
import { resourcePrefix } from '../datastore/keys.js';
import type { BorrowedAllocation, CheckReport, Ipam, PoolUtilization } from '../ipam/index.js';
import { poolsOf, type PoolInfo } from '../ipam/pools.js';
import { blockCount, blockIndexOf, tryParseCidr } from '../net/index.js';
import type { IPPool, Node } from '../resources/types.js';
import type { BlockMapData, NodeView, OrphanBlock, PoolView, Snapshot } from './api-types.js';
import { buildForecast, type UsageHistory } from './forecast.js';
import { listProblems } from './problems.js';

/** Above this many possible blocks a pool's map shows its claimed blocks only. */
export const FULL_MAP_LIMIT = 1 << 20;

/** What one rebuild reads, kept for the requests that need more than the snapshot (search). */
export interface Model {
  readonly snapshot: Snapshot;
  readonly report: CheckReport;
  readonly utilization: readonly PoolUtilization[];
  readonly pools: readonly PoolInfo[];
}

export interface SnapshotSource {
  readonly store: Datastore;
  readonly ipam: Ipam;
}

/**
 * Read the store through the engine and build the snapshot `version`. The usage history gets a
 * sample of every pool's in-use count. Throws DS_* errors of the reads.
 */
export async function buildModel(
  source: SnapshotSource,
  history: UsageHistory,
  version: number,
  now: () => number,
): Promise<Model> {
  const started = now();
  const [poolItems, nodeItems] = await Promise.all([
    listAll(source.store, resourcePrefix('IPPool')),
    listAll(source.store, resourcePrefix('Node')),
  ]);
  const pools = poolsOf(poolItems);
  const rawPools = new Map<string, IPPool>();
  for (const kv of poolItems) {
    try {
      const p = JSON.parse(kv.value) as IPPool;
      rawPools.set(p.metadata.name, p);
    } catch {
      // poolsOf skipped it too.
    }
  }
  const utilization = await source.ipam.getUtilization();
  const report = await source.ipam.check();
  const { borrowed } = await source.ipam.listBorrowed();

  const nodeNames: string[] = [];
  const nodeIndex = new Map<string, number>();
  const indexOfNode = (name: string): number => {
    let i = nodeIndex.get(name);
    if (i === undefined) {
      i = nodeNames.length;
      nodeNames.push(name);
      nodeIndex.set(name, i);
    }
    return i;
  };
  const registered = new Set<string>();
  for (const kv of nodeItems) {
    try {
      const name = (JSON.parse(kv.value) as Node).metadata.name;
      registered.add(name);
      indexOfNode(name);
    } catch {
      // A Node that does not decode has no name to show.
    }
  }

  const poolViews: PoolView[] = [];
  const orphanBlocks: OrphanBlock[] = [];
  for (const group of utilization) {
    if (group.name === undefined) {
      for (const b of group.blocks)
        orphanBlocks.push({
          cidr: b.cidr,
          affinity: b.affinity ?? '',
          capacity: Number(b.capacity),
          inUse: Number(b.inUse),
        });
      continue;
    }
    const info = pools.find((p) => p.name === group.name);
    if (!info) continue;
    const spec = rawPools.get(info.name)?.spec;
    poolViews.push({
      name: info.name,
      cidr: group.cidr,
      family: info.cidr.family,
      blockSize: info.blockSize,
      ipipMode: spec?.ipipMode ?? 'Never',
      vxlanMode: spec?.vxlanMode ?? 'Never',
      natOutgoing: spec?.natOutgoing ?? false,
      disableBGPExport: spec?.disableBGPExport ?? false,
      disabled: !info.enabled,
      allowedUses: info.allowedUses,
      assignmentMode: info.assignmentMode,
      nodeSelector: info.nodeSelector,
      capacity: String(group.capacity),
      inUse: String(group.inUse),
      free: String(group.capacity - group.inUse),
      available: String(group.available),
      reserved: String(group.reserved),
      fill: ratio(group.inUse, group.capacity),
      blocksClaimed: group.blocks.length,
      blocksPossible: String(blockCount(info.cidr, info.blockSize)),
      map: blockMap(info, group, indexOfNode),
    });
  }

  const nodes = nodeViews(utilization, report, borrowed, registered, indexOfNode, nodeNames);
  const builtAt = started;
  history.record(
    builtAt,
    poolViews.map((p) => ({ pool: p.name, inUse: Number(p.inUse) })),
  );
  const forecast = await buildForecast(source.store, utilization, history, builtAt);
  const snapshot: Snapshot = {
    version,
    builtAt,
    buildMs: 0,
    datastore: source.store.type,
    pools: poolViews,
    orphanBlocks,
    nodeNames,
    nodes,
    problems: listProblems(report),
    forecast,
  };
  return {
    snapshot: { ...snapshot, buildMs: now() - started },
    report,
    utilization,
    pools,
  };
}

const ratio = (part: bigint, whole: bigint): number =>
  whole === 0n ? 0 : Number((part * 1_000_000n) / whole) / 1_000_000;

/** The claimed blocks of one pool in address order, placed on the pool's map. */
function blockMap(
  pool: PoolInfo,
  group: PoolUtilization,
  indexOfNode: (name: string) => number,
): BlockMapData {
  const possible = blockCount(pool.cidr, pool.blockSize);
  const slots: number[] = [];
  let full = possible <= BigInt(FULL_MAP_LIMIT);
  for (const b of group.blocks) {
    const c = tryParseCidr(b.cidr);
    // A block of another size, or one only overlapping the pool, has no place on the grid.
    if (!full || !c || c.prefix !== pool.blockSize || c.family !== pool.cidr.family) {
      full = false;
      break;
    }
    try {
      slots.push(Number(blockIndexOf(pool.cidr, c)));
    } catch {
      full = false;
      break;
    }
  }
  // getUtilization lists blocks in key order, which is not address order ("10.0.10" < "10.0.9").
  const order = group.blocks.map((_, i) => i);
  if (full) order.sort((a, b) => slots[a]! - slots[b]!);
  else
    order.sort((a, b) => {
      const ca = tryParseCidr(group.blocks[a]!.cidr);
      const cb = tryParseCidr(group.blocks[b]!.cidr);
      return ca && cb ? (ca.base < cb.base ? -1 : ca.base > cb.base ? 1 : 0) : 0;
    });
  const map = {
    mode: full ? ('full' as const) : ('claimed' as const),
    cells: full ? Number(possible) : group.blocks.length,
    slot: [] as number[],
    cidr: [] as string[],
    used: [] as number[],
    capacity: [] as number[],
    node: [] as number[],
    affinity: [] as string[],
  };
  order.forEach((i, rank) => {
    const b = group.blocks[i]!;
    const host = b.affinity?.startsWith('host:') ? b.affinity.slice(5) : undefined;
    map.slot.push(full ? slots[i]! : rank);
    map.cidr.push(b.cidr);
    map.used.push(Number(b.inUse));
    map.capacity.push(Number(b.capacity));
    map.node.push(host !== undefined ? indexOfNode(host) : -1);
    map.affinity.push(b.affinity ?? '');
  });
  return map;
}

/** Blocks, addresses, borrowed and tunnel addresses per node, by name. */
function nodeViews(
  utilization: readonly PoolUtilization[],
  report: CheckReport,
  borrowed: readonly BorrowedAllocation[],
  registered: ReadonlySet<string>,
  indexOfNode: (name: string) => number,
  nodeNames: readonly string[],
): NodeView[] {
  const blocks = new Map<string, number>();
  for (const group of utilization)
    for (const b of group.blocks)
      if (b.affinity?.startsWith('host:')) {
        const host = b.affinity.slice(5);
        indexOfNode(host);
        blocks.set(host, (blocks.get(host) ?? 0) + 1);
      }
  const addresses = new Map<string, number>();
  for (const n of report.nodeAllocations) {
    indexOfNode(n.node);
    addresses.set(n.node, n.allocations);
  }
  const borrowedBy = new Map<string, number>();
  for (const b of borrowed) {
    indexOfNode(b.borrowingNode);
    borrowedBy.set(b.borrowingNode, (borrowedBy.get(b.borrowingNode) ?? 0) + 1);
  }
  const tunnels = new Map<string, string[]>();
  for (const t of report.nodeTunnelIps) {
    const name = /^Node\((.*)\)$/.exec(t.owner)?.[1];
    if (name === undefined) continue;
    indexOfNode(name);
    const list = tunnels.get(name);
    if (list) list.push(t.ip);
    else tunnels.set(name, [t.ip]);
  }
  return [...nodeNames].sort().map((name) => ({
    name,
    blocks: blocks.get(name) ?? 0,
    addresses: addresses.get(name) ?? 0,
    borrowed: borrowedBy.get(name) ?? 0,
    tunnelAddresses: tunnels.get(name) ?? [],
    registered: registered.has(name),
  }));
}
