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
}

export interface FamilyAssignment {
  readonly family: IpFamily;
  /** Each address with its block's mask, e.g. `10.0.0.5/26` (as Calico returns them). */
  readonly ips: string[];
  readonly numRequested: number;
  /** Why fewer than requested were assigned (no duplicates). */
  readonly messages: string[];
}

/** A shortfall is not an error: compare ips.length with numRequested (see shortfallMessage). */
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
  /** Assign addresses automatically (ipam-core.md §3). A shortfall is reported in the result. */
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
}
