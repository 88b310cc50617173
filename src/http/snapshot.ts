// One picture of the datastore for the dashboard, composed from the engine's own reports: pool and
// block numbers from groupUtilization (what `ipam show --show-blocks` prints), per-node counts and
// problems from check (what `ipam check` prints), borrowed addresses from listBorrowed
// (`ipam show --show-borrowed`). Nothing here counts addresses a second way.
//
// The picture has two parts of different cost. The block part (pools, block map, blocks per node)
// is kept up to date block by block (block-cache.ts). The check part (problems, addresses and
// borrowed addresses per node, tunnel addresses, search) needs a full `ipam check`, so it is
// rebuilt in the background and the snapshot says when it was taken (`checkedAt`). The first
// snapshot does not wait for it: until the first check ends, `checkPending` is true and the check
// part is empty (PENDING_CHECK).
import { listAll, type Datastore } from '../datastore/api.js';
import { resourcePrefix } from '../datastore/keys.js';
import type {
  BlockUtilization,
  BorrowedAllocation,
  CheckReport,
  Ipam,
  PoolUtilization,
} from '../ipam/index.js';
import type { PoolInfo } from '../ipam/pools.js';
import { blockCount, cidrContainsCidr, type Cidr } from '../net/index.js';
import type { IPPoolSpec, Node } from '../resources/types.js';
import type {
  BlockMapData,
  NodeView,
  OrphanBlock,
  PoolView,
  ProblemsView,
  Snapshot,
} from './api-types.js';
import { buildForecast, type UsageHistory } from './forecast.js';
import { listProblems } from './problems.js';

/** Above this many possible blocks a pool's map shows its claimed blocks only. */
export const FULL_MAP_LIMIT = 1 << 20;

/** What `ipam check` and `ipam show --show-borrowed` report, and when. */
export interface CheckPart {
  readonly report: CheckReport;
  readonly borrowed: readonly BorrowedAllocation[];
  /** Names of the Node resources. */
  readonly registered: ReadonlySet<string>;
  /** The report's problems with their fixes, listed once per check. */
  readonly problems: ProblemsView;
  readonly builtAt: number;
  readonly buildMs: number;
}

/** The block part, as block-cache.ts keeps it. */
export interface BlockPart {
  readonly pools: readonly PoolInfo[];
  /** spec of each pool by name (modes and flags). */
  readonly specs: ReadonlyMap<string, IPPoolSpec>;
  readonly utilization: readonly PoolUtilization[];
  /** Per pool: live allocations with a `timestamp` in the forecast window. */
  readonly recentAllocations: ReadonlyMap<string, number>;
  /** The parsed CIDR of each block of `utilization` (parsed once, when the block was read). */
  readonly cidrOf: ReadonlyMap<BlockUtilization, Cidr>;
}

/** The latest snapshot with what search and block details read beside it. */
export interface Model {
  readonly snapshot: Snapshot;
  readonly report: CheckReport;
  readonly utilization: readonly PoolUtilization[];
  readonly pools: readonly PoolInfo[];
}

const NO_REPORT: CheckReport = {
  blocks: [],
  allocationCount: 0,
  activePools: [],
  nodeTunnelIps: [],
  workloadIps: [],
  inUseCount: 0,
  topNodes: [],
  nodeAllocations: [],
  leakedIps: [],
  multipleOwners: [],
  notInPool: [],
  noAllocation: [],
  leakedHandles: [],
  handlesWithIps: 0,
  missingHandles: [],
  invalidBlocks: [],
  allocations: {},
  leakedCount: 0,
  staleEndpoints: [],
  foreignEndpointCount: 0,
  problemCount: 0,
};

/** Stands in for the check part until the first check ends: nothing found, nothing to search. */
export const PENDING_CHECK: CheckPart = {
  report: NO_REPORT,
  borrowed: [],
  registered: new Set(),
  problems: listProblems(NO_REPORT),
  builtAt: 0,
  buildMs: 0,
};

/** Run `ipam check`, the borrowed listing and the Node listing. Throws DS_* errors. */
export async function readCheckPart(
  store: Datastore,
  ipam: Ipam,
  now: () => number,
): Promise<CheckPart> {
  const builtAt = now();
  const report = await ipam.check();
  const { borrowed } = await ipam.listBorrowed();
  const registered = new Set<string>();
  for (const kv of await listAll(store, resourcePrefix('Node'))) {
    try {
      registered.add((JSON.parse(kv.value) as Node).metadata.name);
    } catch {
      // A Node that does not decode has no name to show.
    }
  }
  const problems = listProblems(report);
  return { report, borrowed, registered, problems, builtAt, buildMs: now() - builtAt };
}

/** The snapshot `version` of the two parts; `check` undefined while the first check runs. */
export function composeModel(
  blocks: BlockPart,
  pendingOrCheck: CheckPart | undefined,
  history: UsageHistory,
  version: number,
  builtAt: number,
  datastore: Datastore['type'],
): Model {
  const check = pendingOrCheck ?? PENDING_CHECK;
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
  for (const name of [...check.registered].sort()) indexOfNode(name);

  const poolViews: PoolView[] = [];
  const orphanBlocks: OrphanBlock[] = [];
  for (const group of blocks.utilization) {
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
    const info = blocks.pools.find((p) => p.name === group.name);
    if (!info) continue;
    const spec = blocks.specs.get(info.name);
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
      map: blockMap(info, group, blocks.cidrOf, indexOfNode),
    });
  }

  const nodes = nodeViews(blocks.utilization, check, indexOfNode, nodeNames);
  history.record(
    builtAt,
    poolViews.map((p) => ({ pool: p.name, inUse: Number(p.inUse) })),
  );
  const snapshot: Snapshot = {
    version,
    builtAt,
    buildMs: 0,
    checkPending: pendingOrCheck === undefined,
    checkedAt: check.builtAt,
    checkMs: check.buildMs,
    datastore,
    pools: poolViews,
    orphanBlocks,
    nodeNames,
    nodes,
    problems: check.problems,
    forecast: buildForecast(blocks.utilization, blocks.recentAllocations, history),
  };
  return { snapshot, report: check.report, utilization: blocks.utilization, pools: blocks.pools };
}

const ratio = (part: bigint, whole: bigint): number =>
  whole === 0n ? 0 : Number((part * 1_000_000n) / whole) / 1_000_000;

/** The claimed blocks of one pool in address order, placed on the pool's map. */
function blockMap(
  pool: PoolInfo,
  group: PoolUtilization,
  cidrOf: ReadonlyMap<BlockUtilization, Cidr>,
  indexOfNode: (name: string) => number,
): BlockMapData {
  const possible = blockCount(pool.cidr, pool.blockSize);
  const cidrs = group.blocks.map((b) => cidrOf.get(b));
  const slots: number[] = [];
  let full = possible <= BigInt(FULL_MAP_LIMIT);
  const shift = BigInt((pool.cidr.family === 4 ? 32 : 128) - pool.blockSize);
  for (const c of cidrs) {
    // A block of another size, or one only overlapping the pool, has no place on the grid.
    if (!full || !c || c.prefix !== pool.blockSize || !cidrContainsCidr(pool.cidr, c)) {
      full = false;
      break;
    }
    slots.push(Number((c.base - pool.cidr.base) >> shift));
  }
  // Blocks come in key order, which is not address order ("10.0.10.0" < "10.0.9.0").
  const order = group.blocks.map((_, i) => i);
  if (full) order.sort((a, b) => slots[a]! - slots[b]!);
  else
    order.sort((a, b) => {
      const x = cidrs[a]?.base ?? 0n;
      const y = cidrs[b]?.base ?? 0n;
      return x < y ? -1 : x > y ? 1 : 0;
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
  check: CheckPart,
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
  for (const n of check.report.nodeAllocations) {
    indexOfNode(n.node);
    addresses.set(n.node, n.allocations);
  }
  const borrowedBy = new Map<string, number>();
  for (const b of check.borrowed) {
    indexOfNode(b.borrowingNode);
    borrowedBy.set(b.borrowingNode, (borrowedBy.get(b.borrowingNode) ?? 0) + 1);
  }
  const tunnels = new Map<string, string[]>();
  for (const t of check.report.nodeTunnelIps) {
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
    registered: check.registered.has(name),
  }));
}
