// natOutgoing as Felix programs it with its nftables backend (dataplane.md §5): from the IP pools,
// the Nodes (this node's tunnel addresses, the others' host addresses) and Felix's NAT options,
// the desired content of the agent's tables `ip calico` and `ip6 calico`, with the VXLAN filter
// Felix keeps in the same table (§4.3). Pure: no kernel, no datastore. nat-script.ts turns the
// result into one `nft -f` transaction.
import {
  bitsOf,
  cidrContainsCidr,
  compareCidrs,
  formatCidr,
  tryParseCidr,
  tryParseIp,
  type Cidr,
  type IpFamily,
} from '../net/index.js';
import { isEncapEnabled } from '../resources/index.js';
import type { IPPool, Node } from '../resources/types.js';
import type { NatOptions, PortRange } from './nat-options.js';

/** Felix's default `vxlanPort` (FelixConfiguration), the UDP port of both VXLAN devices. */
export const DEFAULT_VXLAN_PORT = 4789;

/** The VXLAN and IPIP device names Felix uses (`felix/dataplane/linux/dataplanedefs`). */
export const VXLAN_DEVICE_V4 = 'vxlan.calico';
export const VXLAN_DEVICE_V6 = 'vxlan-v6.calico';
export const IPIP_DEVICE = 'tunl0';

/** A tunnel device whose outgoing host traffic is masqueraded to the device's own address. */
export interface TunnelMasquerade {
  readonly device: string;
  /**
   * Source ports UDP masquerade may use, so that no flow is given the VXLAN port as its source
   * (PR #13118): set for VXLAN devices, undefined for IPIP.
   */
  readonly udpPorts?: { readonly first: number; readonly last: number };
}

/** The desired content of one family's table (`table ip calico` or `table ip6 calico`). */
export interface NatTable {
  readonly family: IpFamily;
  /** `cali40masq-ipam-pools`: CIDRs of the natOutgoing pools, sorted, nested ones dropped. */
  readonly masqPools: readonly string[];
  /**
   * `cali40network-ip-pools`: CIDRs of every pool except LoadBalancer-only ones, disabled pools
   * included (a disabled pool is Calico's documented way to say "do not NAT towards this CIDR").
   */
  readonly networkPools: readonly string[];
  /** How natOutgoing translates (Felix's NAT options). */
  readonly outgoing: OutgoingNat;
  /** Tunnel devices that are enabled and have an address on this node, in rule order. */
  readonly tunnels: readonly TunnelMasquerade[];
  /** Present while VXLAN is enabled for the family: Felix keeps these rules in the same table. */
  readonly vxlanFilter?: VxlanFilter;
}

/** The translation of the nat-outgoing rule (dataplane.md §5.2). */
export interface OutgoingNat {
  /** natOutgoingAddress (IPv4 tables only): `snat to` this address instead of masquerade. */
  readonly snatTo?: string;
  /** natPortRange: the source ports TCP and UDP translations use. */
  readonly ports?: PortRange;
  /**
   * natOutgoingExclusions IPPoolsAndHostIPs: `cali40all-hosts-net`, the address of every node,
   * destinations that keep the pod's source. Undefined with IPPoolsOnly (the default).
   */
  readonly excludedHosts?: readonly string[];
}

/**
 * Felix's VXLAN filter (dataplane.md §4.3): VXLAN packets to this node are accepted only from
 * the hosts of known VTEPs and dropped from anyone else, and VXLAN is not connection-tracked.
 */
export interface VxlanFilter {
  /** FelixConfiguration `vxlanPort`. */
  readonly port: number;
  /** `cali40all-vxlan-net`: host address of every other node that has a VTEP of this family. */
  readonly allowedHosts: readonly string[];
}

/** What the NAT tables are computed from. */
export interface NatInputs {
  /** Every IPPool of the datastore, whatever its state. */
  readonly pools: readonly IPPool[];
  /** This node's name: its Node gives the tunnel addresses; the others give the VTEP hosts. */
  readonly nodeName: string;
  /** Every Node of the datastore (this node's own may be missing before it registers). */
  readonly nodes: readonly Node[];
  /** FelixConfiguration `vxlanPort`; default 4789. */
  readonly vxlanPort?: number;
  /** FelixConfiguration natOutgoingAddress, natPortRange, natOutgoingExclusions. */
  readonly options?: NatOptions;
}

/** Calico's set and chain names (`felix/ipsets/ipset_defs.go`, `felix/rules/rule_defs.go`). */
export const natNames = (family: IpFamily) => ({
  table: 'calico',
  nftFamily: (family === 4 ? 'ip' : 'ip6') as 'ip' | 'ip6',
  masqSet: `cali${family}0masq-ipam-pools`,
  networkSet: `cali${family}0network-ip-pools`,
  vxlanHostsSet: `cali${family}0all-vxlan-net`,
  allHostsSet: `cali${family}0all-hosts-net`,
  postrouting: 'nat-POSTROUTING',
  caliPostrouting: 'nat-cali-POSTROUTING',
  natOutgoing: 'nat-cali-nat-outgoing',
});

/** A pool whose allowedUses is exactly [LoadBalancer] routes nothing (issue #12767). */
const isLoadBalancerOnly = (pool: IPPool): boolean => {
  const uses = pool.spec.allowedUses ?? [];
  return uses.length > 0 && uses.every((use) => use === 'LoadBalancer');
};

/** The CIDRs sorted, without any that another one of the list contains (nft interval sets reject overlaps). */
function outermost(cidrs: readonly Cidr[]): string[] {
  const sorted = [...cidrs].sort(compareCidrs);
  const kept: Cidr[] = [];
  for (const cidr of sorted) {
    // Sorted by base, then prefix: a CIDR inside another one comes right after the outer one.
    const last = kept[kept.length - 1];
    if (last === undefined || !cidrContainsCidr(last, cidr)) kept.push(cidr);
  }
  return kept.map(formatCidr);
}

/**
 * The host address of every other node with a VTEP of `family`: Felix's VXLAN resolver needs
 * `spec.bgp` with the host address and a tunnel address of that family (dataplane.md §1.2).
 */
function remoteVtepHosts(family: IpFamily, nodes: readonly Node[], nodeName: string): string[] {
  const hosts: Cidr[] = [];
  for (const node of nodes) {
    if (node.metadata.name === nodeName) continue;
    const { bgp, ipv4VXLANTunnelAddr, ipv6VXLANTunnelAddr } = node.spec;
    const hostCidr = family === 4 ? bgp?.ipv4Address : bgp?.ipv6Address;
    const tunnel = family === 4 ? ipv4VXLANTunnelAddr : ipv6VXLANTunnelAddr;
    const host = hostCidr && tunnel ? tryParseIp(hostCidr.split('/')[0]!) : undefined;
    if (host?.family === family) hosts.push({ family, base: host.value, prefix: bitsOf(family) });
  }
  return outermost(hosts);
}

/** Every node's host addresses of `family` (`spec.bgp`, then `spec.addresses`), as /32 or /128. */
function allHostAddresses(family: IpFamily, nodes: readonly Node[]): string[] {
  const hosts: Cidr[] = [];
  for (const node of nodes) {
    const { bgp, addresses = [] } = node.spec;
    const texts = [bgp?.ipv4Address, bgp?.ipv6Address, ...addresses.map((a) => a.address)];
    for (const text of texts) {
      const ip = text ? tryParseIp(text.split('/')[0]!) : undefined;
      if (ip?.family === family) hosts.push({ family, base: ip.value, prefix: bitsOf(family) });
    }
  }
  return outermost(hosts);
}

/** UDP source ports that avoid `port`: above it, or below it when it is the last port. */
function portsAvoiding(port: number): { first: number; last: number } {
  return port < 65535
    ? { first: Math.max(port + 1, 1024), last: 65535 }
    : { first: 1024, last: 65534 };
}

/**
 * The desired NAT tables, IPv4 first then IPv6. Both always exist, as Felix keeps both; a table
 * without natOutgoing pools has an empty nat-outgoing chain. Pools whose CIDR cannot be parsed
 * are ignored (they were stored by something that skipped validation).
 */
export function desiredNatTables(inputs: NatInputs): NatTable[] {
  const vxlanPort = inputs.vxlanPort ?? DEFAULT_VXLAN_PORT;
  const spec = inputs.nodes.find((node) => node.metadata.name === inputs.nodeName)?.spec;
  return ([4, 6] as const).map((family) => {
    const pools = inputs.pools
      .map((pool) => ({ pool, cidr: tryParseCidr(pool.spec.cidr) }))
      .filter((p): p is { pool: IPPool; cidr: Cidr } => p.cidr?.family === family);
    const masq = pools.filter((p) => p.pool.spec.natOutgoing === true).map((p) => p.cidr);
    const network = pools.filter((p) => !isLoadBalancerOnly(p.pool)).map((p) => p.cidr);
    // A tunnel device is enabled when some pool of its family uses the encapsulation (disabled
    // pools count, §1.1), and it is masqueraded to only once the node has its address (§5.3), in
    // Felix's order: tunl0, then the VXLAN device.
    const tunnels: TunnelMasquerade[] = [];
    if (family === 4 && pools.some((p) => isEncapEnabled(p.pool.spec.ipipMode))) {
      if (spec?.bgp?.ipv4IPIPTunnelAddr) tunnels.push({ device: IPIP_DEVICE });
    }
    const vxlanAddr = family === 4 ? spec?.ipv4VXLANTunnelAddr : spec?.ipv6VXLANTunnelAddr;
    const vxlanEnabled = pools.some((p) => isEncapEnabled(p.pool.spec.vxlanMode));
    if (vxlanEnabled && vxlanAddr) {
      tunnels.push({
        device: family === 4 ? VXLAN_DEVICE_V4 : VXLAN_DEVICE_V6,
        udpPorts: portsAvoiding(vxlanPort),
      });
    }
    const options = inputs.options;
    const outgoing: OutgoingNat = {
      // Felix types natOutgoingAddress as IPv4; applying it to IPv6 is unconfirmed (§5.2).
      ...(family === 4 && options?.natOutgoingAddress && { snatTo: options.natOutgoingAddress }),
      ...(options?.natPortRange && { ports: options.natPortRange }),
      ...(options?.natOutgoingExclusions === 'IPPoolsAndHostIPs' && {
        excludedHosts: allHostAddresses(family, inputs.nodes),
      }),
    };
    const table: NatTable = {
      family,
      masqPools: outermost(masq),
      networkPools: outermost(network),
      outgoing,
      tunnels,
    };
    if (!vxlanEnabled) return table;
    const allowedHosts = remoteVtepHosts(family, inputs.nodes, inputs.nodeName);
    return { ...table, vxlanFilter: { port: vxlanPort, allowedHosts } };
  });
}
