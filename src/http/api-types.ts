// The JSON the dashboard server sends and the browser reads. CONTRACT between src/http and web/
// (the front end imports these types only; esbuild drops them from the bundle).
//
// Counts that can exceed 2^53 (IPv6 pools) travel as decimal strings; per-block numbers are
// plain numbers (a block holds at most 2^(128-prefix) addresses, and Calico's blocks are small).

/** GET /api/snapshot */
export interface Snapshot {
  /** Increases with every rebuild; the events stream announces it. */
  readonly version: number;
  /** Milliseconds since the epoch when the rebuild started. */
  readonly builtAt: number;
  /** Milliseconds spent composing this snapshot from the kept parts (the cost of a live update). */
  readonly buildMs: number;
  /**
   * True until the first background `ipam check` ends: problems, node addresses, borrowed and
   * tunnel addresses and search by pod, handle or node are then empty, not zero.
   */
  readonly checkPending: boolean;
  /** When the `ipam check` behind problems, node addresses and search started (ms since epoch). */
  readonly checkedAt: number;
  /** How long that check took, in milliseconds (it is repeated at most every 4 such spans). */
  readonly checkMs: number;
  readonly datastore: 'embedded' | 'etcdv3';
  readonly pools: readonly PoolView[];
  /** Blocks that overlap no pool (`ipam show --show-blocks` lists them after the pools). */
  readonly orphanBlocks: readonly OrphanBlock[];
  /** Node names; PoolView.map.node holds indexes into this list (-1: no host affinity). */
  readonly nodeNames: readonly string[];
  readonly nodes: readonly NodeView[];
  readonly problems: ProblemsView;
  readonly forecast: readonly ForecastView[];
}

export interface PoolView {
  readonly name: string;
  readonly cidr: string;
  readonly family: 4 | 6;
  readonly blockSize: number;
  readonly ipipMode: string;
  readonly vxlanMode: string;
  readonly natOutgoing: boolean;
  readonly disableBGPExport: boolean;
  /** spec.disabled, or deleting, or Allocatable=False (GetEnabledPools' sense). */
  readonly disabled: boolean;
  readonly allowedUses: readonly string[];
  readonly assignmentMode: string;
  readonly nodeSelector: string;
  /** Decimal strings, as `ipam show` counts them (IPS TOTAL, IPS IN USE). */
  readonly capacity: string;
  readonly inUse: string;
  /** IPS FREE of `ipam show`: capacity - inUse (reserved addresses count as free there). */
  readonly free: string;
  /** Addresses an allocation could still take (reservations excluded). */
  readonly available: string;
  readonly reserved: string;
  /** inUse / capacity, 0..1. */
  readonly fill: number;
  readonly blocksClaimed: number;
  /** How many blocks of blockSize fit in the pool (decimal string: IPv6 has 2^74). */
  readonly blocksPossible: string;
  readonly map: BlockMapData;
}

/**
 * The claimed blocks of a pool, as parallel arrays in address order. In `full` mode `slot` is
 * the block's index among every possible block of the pool; in `claimed` mode (too many
 * possible blocks to draw, e.g. IPv6) it is the block's rank among the claimed ones.
 */
export interface BlockMapData {
  readonly mode: 'full' | 'claimed';
  /** Cells to draw: every possible block (full) or every claimed block (claimed). */
  readonly cells: number;
  readonly slot: readonly number[];
  readonly cidr: readonly string[];
  readonly used: readonly number[];
  readonly capacity: readonly number[];
  /** Index into Snapshot.nodeNames, or -1 for a block without a host affinity. */
  readonly node: readonly number[];
  /** `host:n1`, `virtual:x` or '' per block. */
  readonly affinity: readonly string[];
}

export interface OrphanBlock {
  readonly cidr: string;
  readonly affinity: string;
  readonly capacity: number;
  readonly inUse: number;
}

export interface NodeView {
  readonly name: string;
  /** Blocks whose affinity is `host:<name>`. */
  readonly blocks: number;
  /** Allocations whose `node` attribute is this node (`ipam check`'s per-node count). */
  readonly addresses: number;
  /** Of those, the ones in another node's block (`ipam show --show-borrowed`). */
  readonly borrowed: number;
  /** IPv4 VXLAN, WireGuard and IPIP tunnel addresses of the Node resource. */
  readonly tunnelAddresses: readonly string[];
  /** A Node resource exists with this name. */
  readonly registered: boolean;
}

export interface ProblemsView {
  /** `Check complete; found N problems.` */
  readonly problemCount: number;
  readonly allocationCount: number;
  readonly inUseCount: number;
  readonly handlesWithIps: number;
  readonly items: readonly Problem[];
  /** Problems not listed because the list is capped. */
  readonly omitted: number;
}

export type ProblemKind =
  | 'leaked-ip'
  | 'leaked-handle'
  | 'not-in-pool'
  | 'no-allocation'
  | 'multiple-owners'
  | 'missing-handle'
  | 'invalid-block';

export interface Problem {
  readonly kind: ProblemKind;
  /** What is wrong, in `ipam check`'s words. */
  readonly text: string;
  /** The address, handle or block concerned. */
  readonly subject: string;
  /** The CLI command that fixes it (or that shows what to do). */
  readonly fix: string;
  /** Why that command, in one sentence. */
  readonly fixNote: string;
}

export interface ForecastView {
  readonly pool: string;
  readonly cidr: string;
  readonly inUse: string;
  readonly available: string;
  /** Net addresses per hour taken, or undefined when there is no basis yet. */
  readonly ratePerHour?: number;
  /** Hours until `available` reaches 0 at that rate; undefined when the rate is <= 0 or unknown. */
  readonly hoursToExhaustion?: number;
  /** Which data the rate comes from, in words (window, number of samples or allocations). */
  readonly basis: string;
  readonly method: 'samples' | 'timestamps' | 'none';
  /** Allocations alive now with a `timestamp` attribute inside the window, per hour. */
  readonly timestampRatePerHour?: number;
  readonly timestampWindowHours: number;
  readonly timestampCount: number;
  /** Samples the server kept (inUse over time) within the window. */
  readonly samples: readonly { readonly at: number; readonly inUse: number }[];
}

/** GET /api/block?cidr=... */
export interface BlockDetail {
  readonly cidr: string;
  readonly affinity: string;
  readonly pool?: string;
  readonly capacity: number;
  readonly inUse: number;
  /** Addresses of the block inside an IPReservation. */
  readonly reservedByReservations: number;
  readonly addresses: readonly BlockAddress[];
}

export interface BlockAddress {
  readonly ip: string;
  readonly handle?: string;
  readonly pod?: string;
  readonly namespace?: string;
  readonly node?: string;
  readonly timestamp?: string;
  /** Inside an IPReservation, or held by the Windows reserved handle. */
  readonly reserved: boolean;
  /** Released, still cooling down. */
  readonly coolingDown: boolean;
}

/** GET /api/search?q=... */
export interface SearchResult {
  readonly query: string;
  readonly hits: readonly SearchHit[];
  /** Hits left out beyond the cap. */
  readonly omitted: number;
  /** For an address that nobody holds: where it would live. */
  readonly note?: string;
}

export interface SearchHit {
  /** What matched: the address, pod, handle or node. */
  readonly match: 'ip' | 'pod' | 'handle' | 'node';
  readonly ip: string;
  readonly owner: string;
  /** `namespace/pod` of the allocation's attributes. */
  readonly pod?: string;
  readonly handle?: string;
  readonly node?: string;
  readonly block: string;
  readonly pool?: string;
}

/** The body of every error answer (401, 404, 405, 500). */
export interface ApiError {
  readonly error: string;
  /** 401 only: `missing` (no token sent) or `wrong` (a token that does not match). */
  readonly token?: 'missing' | 'wrong';
}
