// The node agent's pure core: the cluster as the dataplane sees it, and the kernel state it
// wants. CONTRACT shared by src/dataplane (computes it), src/kernel (reads and applies it) and
// src/node (orchestrates). Shapes follow spec/dataplane.md §1-4.
import type { Cidr, IpAddress, IpFamily } from '../net/index.js';
import type { EncapMode } from '../resources/types.js';

/** Felix's derived pool type (l3_route_resolver.go `poolTypeForPool`). */
export type PoolType = 'vxlan' | 'ipip' | 'noencap' | 'none';

/** An IPPool as routing sees it (§1.1). */
export interface PoolInfo {
  readonly name: string;
  readonly cidr: Cidr;
  readonly cidrText: string;
  readonly type: PoolType;
  readonly vxlanMode: EncapMode;
  readonly ipipMode: EncapMode;
  /** Either mode is CrossSubnet. */
  readonly crossSubnet: boolean;
  readonly natOutgoing: boolean;
  readonly disabled: boolean;
  /** `metadata.deletionTimestamp` is set. */
  readonly terminating: boolean;
  readonly nodeSelector: string;
  /** As stored; empty means [Workload, Tunnel]. */
  readonly allowedUses: readonly string[];
}

/** A host address with the prefix of its subnet (`spec.bgp.ipv4Address`). */
export interface HostAddress {
  readonly ip: IpAddress;
  /** The subnet the prefix describes (CrossSubnet's same-subnet test). */
  readonly subnet: Cidr;
  readonly text: string;
}

/** A Node as routing sees it (§1.2). */
export interface NodeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.bgp` is present (the VXLAN resolver needs it). */
  readonly hasBgp: boolean;
  readonly ipv4?: HostAddress;
  readonly ipv6?: HostAddress;
  readonly vxlanTunnel4?: IpAddress;
  readonly vxlanTunnel6?: IpAddress;
  readonly ipipTunnel?: IpAddress;
  /** `spec.vxlanTunnelMACAddr(V6)` overrides. */
  readonly vxlanMac4?: string;
  readonly vxlanMac6?: string;
}

/** An IPAM block as routing sees it (§1.3). */
export interface BlockInfo {
  readonly cidr: Cidr;
  readonly cidrText: string;
  /** The node after `host:` in the affinity, or undefined. */
  readonly host?: string;
  /** Addresses (as /32 or /128 CIDR text) allocated to a node other than `host`. */
  readonly borrowed: ReadonlyMap<string, string>;
}

/** A route in the main table, in the words of `ip route` (§3.3). */
export interface KernelRoute {
  readonly family: IpFamily;
  /** CIDR text, always with a prefix (`10.244.1.9/32`). */
  readonly dst: string;
  readonly type: 'unicast' | 'blackhole';
  readonly gateway?: string;
  readonly device?: string;
  readonly onlink: boolean;
  /** The route protocol number (80 for Calico's, 3 = boot for VXLAN routes). */
  readonly protocol: number;
  readonly scope: 'global' | 'link';
  /** The route MTU attribute, when set. */
  readonly mtu?: number;
}

/** A VXLAN device (§4.1). */
export interface VxlanDevice {
  readonly name: string;
  readonly family: IpFamily;
  readonly vni: number;
  readonly port: number;
  /** N_L: the source address of the tunnel. */
  readonly local: string;
  /** P: the parent interface holding N_L. */
  readonly parent: string;
  readonly mac: string;
  readonly mtu: number;
  /** T_L as CIDR text (`/32` or `/128`). */
  readonly address: string;
}

/** The IPIP device `tunl0` (§4.4; configuration only where the kernel has no ipip module). */
export interface IpipDevice {
  readonly name: 'tunl0';
  readonly mtu: number;
  /** The IPIP tunnel address as /32, when the node has one. */
  readonly address?: string;
}

/** A permanent FDB entry: MAC -> outer destination (§4.2). */
export interface FdbEntry {
  readonly mac: string;
  readonly dst: string;
}

/** A permanent neighbour entry: tunnel IP -> MAC (§4.2). */
export interface NeighbourEntry {
  readonly ip: string;
  readonly mac: string;
}

/** What the device of one family should be: present as given, absent, or left alone (waiting). */
export type DeviceWish<D> =
  | { readonly state: 'present'; readonly device: D }
  | { readonly state: 'absent' }
  | { readonly state: 'unknown'; readonly reason: string };

/** Settings of the dataplane (Felix's FelixConfiguration fields with their defaults, §1.4). */
export interface DataplaneSettings {
  readonly vxlanVni: number;
  readonly vxlanPort: number;
  /** 0 = auto: host MTU - 50. */
  readonly vxlanMtu: number;
  /** 0 = auto: host MTU - 70. */
  readonly vxlanMtuV6: number;
  /** 0 = auto: host MTU - 20. */
  readonly ipipMtu: number;
  /** Protocol of Calico's non-VXLAN routes (80). */
  readonly routeProtocol: number;
  /** Protocol of VXLAN routes (Felix's deviceRouteProtocol, 3 = boot). */
  readonly deviceRouteProtocol: number;
  /**
   * Whether the agent routes remote blocks of pools without encapsulation itself (directly via
   * the node's address, on-link). False when BIRD installs them (BGP mode), as Felix's
   * programClusterRoutes `EnabledIPIPOnly` leaves them to BIRD (§1.4, §6.3).
   */
  readonly programNoEncapRoutes: boolean;
}

export const DEFAULT_DATAPLANE_SETTINGS: DataplaneSettings = {
  vxlanVni: 4096,
  vxlanPort: 4789,
  vxlanMtu: 0,
  vxlanMtuV6: 0,
  ipipMtu: 0,
  routeProtocol: 80,
  deviceRouteProtocol: 3,
  programNoEncapRoutes: true,
};

/** Calico's device names. */
export const VXLAN_DEVICE = { 4: 'vxlan.calico', 6: 'vxlan-v6.calico' } as const;
export const IPIP_DEVICE = 'tunl0';

/** What the node itself contributes that is not in the datastore: its parent devices and MTUs. */
export interface LocalEnvironment {
  /** The interface holding N_L (per family), once found. */
  readonly parent4?: string;
  readonly parent6?: string;
  /** The host MTU (smallest oper-up interface matching Felix's pattern; 1460 if none). */
  readonly hostMtu: number;
}
