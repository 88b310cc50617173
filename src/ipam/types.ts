// Inputs and outputs of the IPAM engine's public operations.
// CONTRACT shared by ipam/, client/, cli/ and cni/. The engine may add optional fields; it must
// not remove or rename these.
import type { IpFamily } from '../net/index.js';
import type { AllowedUse } from '../resources/types.js';

export type IntendedUse = AllowedUse;

/** Labels of the pod's namespace, for namespaceSelector; absent means "no namespace" (empty labels). */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface AutoAssignRequest {
  /** Addresses wanted per family (IPv4 is handled first; an IPv4 error skips IPv6). */
  readonly num4: number;
  readonly num6: number;
  /** Handle to record the allocation under (CNI: `<network>.<containerID>`). */
  readonly handleId?: string;
  /** Stored as the allocation attribute's `secondary` map (node, pod, namespace, timestamp...). */
  readonly attrs?: Readonly<Record<string, string>>;
  /** The node (Calico Node resource name) the addresses are for. */
  readonly hostname: string;
  /** Pools requested explicitly: names or CIDRs. When given, selectors and assignmentMode are ignored. */
  readonly ipv4Pools?: readonly string[];
  readonly ipv6Pools?: readonly string[];
  readonly intendedUse: IntendedUse;
  readonly namespace?: NamespaceInfo;
  /** Per-request cap on blocks per host (0 or absent: the configured value, else 20). */
  readonly maxBlocksPerHost?: number;
  /** Windows: ordinals reserved at the start/end of every block this call creates (e.g. 3 and 1). */
  readonly hostReservedAttrIPv4s?: HostReservedAttrSpec;
  readonly hostReservedAttrIPv6s?: HostReservedAttrSpec;
  /**
   * Calico's contract: return fewer addresses than requested instead of failing. Without it a
   * shortfall releases what the request took and throws IPAM_SHORTFALL.
   */
  readonly allowPartial?: boolean;
  /**
   * Ours: free addresses this request must pass over (they stay free and are recorded nowhere),
   * e.g. a subnet's network and broadcast addresses and the gateway a CNI plugin puts on the
   * host side. Per family; see SkippedAddresses.
   */
  readonly skipIPv4?: SkippedAddresses;
  readonly skipIPv6?: SkippedAddresses;
  /**
   * Ours, for a retried request (a CNI ADD whose earlier attempt lost its answer): when the
   * handle already holds exactly num4 IPv4 and num6 IPv6 addresses, return those and assign
   * nothing. Otherwise the request runs as usual.
   */
  readonly reuseHeld?: boolean;
}

/**
 * Addresses counted from the edges of every pool and every block that AutoAssign must not hand
 * out: `poolStart: 2, poolEnd: 1` skips a pool's network address, the one after it and its
 * last address. Unlike HostReservedAttrSpec nothing is allocated, so `ipam show` counts none.
 */
export interface SkippedAddresses {
  readonly poolStart?: number;
  readonly poolEnd?: number;
  readonly blockStart?: number;
  readonly blockEnd?: number;
}

/** Calico's HostReservedAttr: reserved ordinals of new blocks, held by one note attribute. */
export interface HostReservedAttrSpec {
  readonly startOfBlock: number;
  readonly endOfBlock: number;
  /** Default `windows-reserved-ipam-handle`. */
  readonly handle?: string;
  /** Default `windows host rsvd`. */
  readonly note?: string;
}

export interface FamilyAssignment {
  readonly family: IpFamily;
  /** Each address with its block's mask, e.g. `10.0.0.5/26` (as Calico returns them). */
  readonly ips: string[];
  readonly numRequested: number;
  /** Why fewer than requested were assigned (no duplicates). */
  readonly messages: string[];
  /** The host-reserved handle when the request reserved ordinals (Windows); ends the shortfall text. */
  readonly hostReservedHandle?: string;
}

/** Complete, unless the request set allowPartial: then compare ips.length with numRequested. */
export interface AutoAssignResult {
  readonly ipv4: FamilyAssignment;
  readonly ipv6: FamilyAssignment;
}

export interface AssignIpRequest {
  /** The address, without a mask. */
  readonly ip: string;
  readonly handleId?: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly hostname: string;
  /** When set, the pool's allowedUses must contain it (Calico HEAD behaviour). */
  readonly intendedUse?: IntendedUse;
}

export interface ReleaseOptions {
  readonly address: string;
  /** Refuse unless the allocation carries this handle. */
  readonly handleId?: string;
  /** Refuse the block's batch unless the ordinal's sequence number matches. */
  readonly sequenceNumber?: bigint;
}

export interface ReleaseResult {
  /** Addresses that were released now. */
  readonly released: string[];
  /** Addresses that were not allocated (or already cooling down). */
  readonly unallocated: string[];
  /** Per-block failures: the batch of that block was not released. Other blocks may have succeeded. */
  readonly failures: { readonly blockCidr: string; readonly error: Error }[];
}

/** What `ipam show --ip` prints. */
export interface AllocationInfo {
  readonly ip: string;
  readonly blockCidr: string;
  readonly handleId?: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly alternateAttrs?: Readonly<Record<string, string>>;
  readonly sequenceNumber: bigint;
  /** Released but still cooling down. */
  readonly coolingDown: boolean;
}

export interface BlockUtilization {
  readonly cidr: string;
  /** `host:node1`, `virtual:load-balancer`, or undefined for an unaffine block. */
  readonly affinity?: string;
  readonly capacity: bigint;
  readonly inUse: bigint;
  readonly reserved: bigint;
  readonly available: bigint;
}

export interface PoolUtilization {
  /** Pool name, or undefined for the "orphaned allocation blocks" group. */
  readonly name?: string;
  readonly cidr: string;
  readonly capacity: bigint;
  readonly inUse: bigint;
  readonly reserved: bigint;
  readonly available: bigint;
  readonly blocks: BlockUtilization[];
}

/** An allocation whose `node` attribute differs from its block's affinity host. */
export interface BorrowedAllocation {
  readonly ip: string;
  readonly borrowingNode: string;
  readonly blockCidr: string;
  readonly blockOwner: string;
  readonly attrs: Readonly<Record<string, string>>;
}

/** The library form of the IPAM configuration (ipam-core.md §1.8). */
export interface IpamConfig {
  readonly strictAffinity: boolean;
  readonly autoAllocateBlocks: boolean;
  readonly maxBlocksPerHost: number;
  readonly kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
  readonly ipCooldownSeconds: number;
}

export const DEFAULT_IPAM_CONFIG: IpamConfig = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
  ipCooldownSeconds: 0,
};

/** Injected so allocation is deterministic under test (STYLE.md). */
export interface IpamEnvironment {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Nanoseconds since the epoch, for new blocks' sequence numbers. */
  nowNanos(): bigint;
  /** Uniform in [0, 1). */
  random(): number;
  log?(level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
}

/**
 * The IPAM engine's public operations (created by `createIpam(store, env)` in src/ipam/index.ts).
 * CONTRACT used by client/, cli/ and cni/.
 */
export interface Ipam {
  /**
   * Assign addresses automatically (ipam-core.md §3), all or nothing: a failed or short request
   * releases what it took and throws (IPAM_SHORTFALL for a shortfall), unless allowPartial.
   */
  autoAssign(request: AutoAssignRequest): Promise<AutoAssignResult>;
  /** Assign one given address (§4.1). Throws IPAM_* codes (e.g. already assigned, not in a pool). */
  assignIp(request: AssignIpRequest): Promise<void>;
  /** Release addresses (§4.2); may succeed for some blocks and fail for others (see result). */
  releaseIps(options: readonly ReleaseOptions[]): Promise<ReleaseResult>;
  /** Release every address of a handle (§4.3); returns the addresses released. Throws when the handle is missing. */
  releaseByHandle(handleId: string): Promise<string[]>;
  /** Addresses held under a handle (cooling-down ones excluded). */
  ipsByHandle(handleId: string): Promise<string[]>;
  /** The allocation of one address, or undefined when it is not assigned. */
  getAssignmentAttributes(ip: string): Promise<AllocationInfo | undefined>;
  /** §4.5 wrappers. */
  releaseAffinity(cidr: string, host: string, mustBeEmpty: boolean): Promise<void>;
  releaseHostAffinities(host: string, mustBeEmpty: boolean): Promise<void>;
  releasePoolAffinities(poolCidr: string): Promise<void>;
  /** §4.7: every pool (or the named ones / CIDRs), plus the orphan group when all are wanted. */
  getUtilization(pools?: readonly string[]): Promise<PoolUtilization[]>;
  /** Allocations whose node differs from the block owner, and the count without a node attribute. */
  listBorrowed(): Promise<{ borrowed: BorrowedAllocation[]; withoutNode: number }>;
  /** The stored configuration, or the defaults when none is stored (read-only, like Calico HEAD). */
  getConfig(): Promise<IpamConfig>;
  /** Validate the cross-field rules (§1.8) and store the configuration. */
  setConfig(config: IpamConfig): Promise<void>;
  /** `ipam check` (§4.9, surfaces.md §2.3): every inconsistency, as data the CLI prints. */
  check(): Promise<CheckReport>;
}

/**
 * Options of `createIpam(store, options)` besides the environment.
 * Concurrency: calls of one Ipam for the same host are serialised in-process (a per-host queue),
 * so many allocators on one host never spin on one block; with `lockDir`, processes on the same
 * machine also take a per-host lock file `<lockDir>/<host>.lock` around autoAssign and assignIp
 * (the CNI plugin passes e.g. /var/run/cidrpool/ipam-locks). Different hosts never wait on each
 * other: there is no global lock.
 */
export interface IpamOptions {
  /** Directory for per-host lock files; absent: no cross-process lock. */
  readonly lockDir?: string;
  /** How long to wait for a host lock file (default 90 s, as Calico's CNI host lock). */
  readonly lockTimeoutMs?: number;
  /** Bound of every compare-and-swap loop (default 100, Calico's datastoreRetries). */
  readonly retries?: number;
}

/** One address seen by `ipam check` (the report's allocation object). */
export interface CheckAllocation {
  readonly ip: string;
  readonly blockCidr: string;
  readonly handle?: string;
  readonly sequenceNumber: bigint;
  readonly pod?: string;
  readonly namespace?: string;
  readonly node?: string;
  readonly type?: string;
  /** The `timestamp` attribute. */
  readonly creationTimestamp?: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly alternateAttrs?: Readonly<Record<string, string>>;
  readonly inUse: boolean;
  /** `node` differs from the block's host affinity. */
  readonly borrowed: boolean;
  readonly coolingDown: boolean;
  /** Who uses the address: `Node(n)`, `Workload(ns/name)`, `Reserved for Windows`. */
  readonly owners: readonly string[];
}

/** An address in use by a node or workload. */
export interface CheckInUseIp {
  readonly ip: string;
  readonly owner: string;
}

/** Result of `ipam check`; the CLI prints the text of surfaces.md §2.3 and `-o` JSON from it. */
export interface CheckReport {
  /** Every block, in key order: `IPAM block <cidr> affinity=<affinity|<none>>:`. */
  readonly blocks: readonly {
    readonly cidr: string;
    readonly affinity?: string;
    readonly allocations: number;
  }[];
  /** Number of allocations recorded by all blocks (cooling-down ones included). */
  readonly allocationCount: number;
  /** CIDRs of enabled pools, in name order. */
  readonly activePools: readonly string[];
  /** IPv4 VXLAN, WireGuard and IPIP tunnel addresses of Nodes (Calico reads only these). */
  readonly nodeTunnelIps: readonly CheckInUseIp[];
  /** Addresses of WorkloadEndpoints' spec.ipNetworks. */
  readonly workloadIps: readonly CheckInUseIp[];
  /** Distinct addresses used by workloads and nodes. */
  readonly inUseCount: number;
  /** Up to 20 nodes by allocations, descending. */
  readonly topNodes: readonly { readonly node: string; readonly allocations: number }[];
  /** Every node by its `node` attribute's allocations, in topNodes' order (topNodes is its head). */
  readonly nodeAllocations: readonly { readonly node: string; readonly allocations: number }[];
  /** Present when there is at least one allocation: the top count and the median (index n/2). */
  readonly maxNodeAllocations?: number;
  readonly medianNodeAllocations?: number;
  /** Allocated in IPAM but not in use (cooling-down ones excluded). */
  readonly leakedIps: readonly CheckAllocation[];
  /** Addresses with more than one owner. */
  readonly multipleOwners: readonly string[];
  /** In use but outside every active pool. */
  readonly notInPool: readonly CheckInUseIp[];
  /** In use inside an active pool but with no allocation. */
  readonly noAllocation: readonly CheckInUseIp[];
  /** Handle objects that no allocation mentions, with their revision. */
  readonly leakedHandles: readonly { readonly id: string; readonly revision: string }[];
  /** Handles mentioned by allocations. */
  readonly handlesWithIps: number;
  /** Handles mentioned in blocks with no handle object (not counted as problems, as Calico). */
  readonly missingHandles: readonly string[];
  /** Blocks that break the invariants of ipam-core.md §2.1. */
  readonly invalidBlocks: readonly {
    readonly cidr: string;
    readonly problems: readonly string[];
  }[];
  /** Every allocation by address, for `-o report.json`. */
  readonly allocations: Readonly<Record<string, readonly CheckAllocation[]>>;
  /** How many addresses are leaked: `leakedIps.length`, known without building that list. */
  readonly leakedCount: number;
  /**
   * WorkloadEndpoints naming an address they do not hold: allocated to another handle
   * ('foreign'), cooling down after a release ('released'), or free ('free', also counted in
   * noAllocation). `ipam release --from-report` deletes them.
   */
  readonly staleEndpoints: readonly StaleEndpoint[];
  /** The 'foreign' and 'released' entries of staleEndpoints (a problem Calico does not count). */
  readonly foreignEndpointCount: number;
  /**
   * leakedCount + notInPool + noAllocation + leakedHandles, as Calico counts (invalid blocks
   * apart), plus multipleOwners and foreignEndpointCount, which Calico lists but does not count.
   */
  readonly problemCount: number;
}

/** An endpoint on an address it does not hold, at the revision it was read. */
export interface StaleEndpoint {
  readonly ip: string;
  readonly name: string;
  readonly namespace: string;
  readonly revision: string;
  readonly reason: 'foreign' | 'released' | 'free';
  /** For 'foreign': the handle that holds the address. */
  readonly handle?: string;
}
