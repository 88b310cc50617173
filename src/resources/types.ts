// Calico v3 resource shapes (projectcalico.org/v3). Field names are Calico's, exactly.
// CONTRACT shared by resources/, client/, ipam/, cli/ and cni/.

export const API_VERSION_V3 = 'projectcalico.org/v3';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  generation?: number;
}

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export type AllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
export type AssignmentMode = 'Automatic' | 'Manual';

export interface IPPoolSpec {
  cidr: string;
  vxlanMode?: EncapMode;
  ipipMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  blockSize?: number;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: AllowedUse[];
  assignmentMode?: AssignmentMode;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface IPPool {
  apiVersion: typeof API_VERSION_V3;
  kind: 'IPPool';
  metadata: ObjectMeta;
  spec: IPPoolSpec;
  status?: { conditions?: Condition[] };
}

export interface IPReservation {
  apiVersion: typeof API_VERSION_V3;
  kind: 'IPReservation';
  metadata: ObjectMeta;
  spec: { reservedCIDRs?: string[] };
}

export interface IPAMConfigurationSpec {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  maxBlocksPerHost?: number;
  kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
  ipCooldownSeconds?: number;
}

export interface IPAMConfiguration {
  apiVersion: typeof API_VERSION_V3;
  kind: 'IPAMConfiguration';
  metadata: ObjectMeta;
  spec: IPAMConfigurationSpec;
}

export interface NodeSpec {
  bgp?: {
    asNumber?: number;
    ipv4Address?: string;
    ipv6Address?: string;
    ipv4IPIPTunnelAddr?: string;
    routeReflectorClusterID?: string;
  };
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: { nodeName?: string; orchestrator: string }[];
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
  addresses?: { address: string; type?: string }[];
}

export interface Node {
  apiVersion: typeof API_VERSION_V3;
  kind: 'Node';
  metadata: ObjectMeta;
  spec: NodeSpec;
  status?: Record<string, unknown>;
}

export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: { internalIP: string; externalIP: string }[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName?: string;
  mac?: string;
  ports?: { name?: string; protocol: string; port: number; hostPort?: number; hostIP?: string }[];
  allowSpoofedSourcePrefixes?: string[];
}

export interface WorkloadEndpoint {
  apiVersion: typeof API_VERSION_V3;
  kind: 'WorkloadEndpoint';
  metadata: ObjectMeta;
  spec: WorkloadEndpointSpec;
}

/** A CIDR entry of BGPConfiguration's service IP lists. */
export interface ServiceIPBlock {
  cidr?: string;
}

/** A Kubernetes secret reference for a BGP password (stored, not used by cidrpool). */
export interface BGPPassword {
  secretKeyRef?: { name?: string; key: string; optional?: boolean };
}

export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number;
  extensions?: Record<string, string>;
  serviceLoadBalancerIPs?: ServiceIPBlock[];
  serviceExternalIPs?: ServiceIPBlock[];
  serviceClusterIPs?: ServiceIPBlock[];
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  communities?: { name?: string; value?: string }[];
  prefixAdvertisements?: { cidr?: string; communities?: string[] }[];
  listenPort?: number;
  nodeMeshPassword?: BGPPassword;
  nodeMeshMaxRestartTime?: string;
  bindMode?: 'None' | 'NodeIP';
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  programClusterRoutes?: string;
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
}

export interface BGPConfiguration {
  apiVersion: typeof API_VERSION_V3;
  kind: 'BGPConfiguration';
  metadata: ObjectMeta;
  spec: BGPConfigurationSpec;
}

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  /** `IP`, `IPv4:port` or `[IPv6]:port`. */
  peerIP?: string;
  asNumber?: number;
  localASNumber?: number;
  extensions?: Record<string, string>;
  peerSelector?: string;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: BGPPassword;
  sourceAddress?: 'UseNodeIP' | 'None';
  failureDetectionMode?: 'None' | 'BFDIfDirectlyConnected';
  restartMode?: 'GracefulRestart' | 'LongLivedGracefulRestart';
  maxRestartTime?: string;
  birdGatewayMode?: 'Recursive' | 'DirectIfDirectlyConnected';
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  filters?: string[];
  externalNetwork?: string;
  reachableBy?: string;
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}

export interface BGPPeer {
  apiVersion: typeof API_VERSION_V3;
  kind: 'BGPPeer';
  metadata: ObjectMeta;
  spec: BGPPeerSpec;
}

/**
 * FelixConfiguration (`default`, or `node.<name>` for one node): the dataplane fields of
 * spec/dataplane.md §1.4 and the ones `calicoctl get felixconfiguration default -o yaml` shows
 * on a fresh cluster. Other Felix fields are not part of cidrpool's schema.
 */
export interface FelixConfigurationSpec {
  logSeverityScreen?: string;
  logSeverityFile?: string;
  logSeveritySys?: string;
  reportingInterval?: string;
  healthPort?: number;
  prometheusMetricsEnabled?: boolean;
  prometheusMetricsPort?: number;
  ipv6Support?: boolean;
  iptablesBackend?: 'Legacy' | 'NFT' | 'Auto';
  nftablesMode?: 'Disabled' | 'Enabled' | 'Auto';
  ipipEnabled?: boolean;
  ipipMTU?: number;
  vxlanEnabled?: boolean;
  vxlanMTU?: number;
  vxlanMTUV6?: number;
  vxlanPort?: number;
  vxlanVNI?: number;
  mtuIfacePattern?: string;
  natOutgoingAddress?: string;
  natPortRange?: number | string;
  natOutgoingExclusions?: 'IPPoolsOnly' | 'IPPoolsAndHostIPs';
  iptablesNATOutgoingInterfaceFilter?: string;
  routeSource?: 'CalicoIPAM' | 'WorkloadIPs';
  programClusterRoutes?: string;
  deviceRouteProtocol?: number;
  deviceRouteSourceAddress?: string;
  deviceRouteSourceAddressIPv6?: string;
  removeExternalRoutes?: boolean;
  routeRefreshInterval?: string;
  routeSyncDisabled?: boolean;
  externalNodesList?: string[];
  bpfEnabled?: boolean;
  bpfLogLevel?: string;
  bpfConnectTimeLoadBalancing?: string;
  bpfHostNetworkedNATWithoutCTLB?: string;
  floatingIPs?: 'Enabled' | 'Disabled';
  wireguardEnabled?: boolean;
  wireguardEnabledV6?: boolean;
}

export interface FelixConfiguration {
  apiVersion: typeof API_VERSION_V3;
  kind: 'FelixConfiguration';
  metadata: ObjectMeta;
  spec: FelixConfigurationSpec;
}

export type Resource =
  | IPPool
  | IPReservation
  | IPAMConfiguration
  | Node
  | WorkloadEndpoint
  | BGPConfiguration
  | BGPPeer
  | FelixConfiguration;
export type ResourceKind = Resource['kind'];

/** Kind -> facts used by keys, the CLI alias table and list output. */
export interface KindInfo {
  readonly kind: ResourceKind;
  /** Lower-case plural used in etcd keys, e.g. `ippools`. */
  readonly plural: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  /** CLI spellings (matched case-insensitively). */
  readonly aliases: readonly string[];
}

export const KINDS: Readonly<Record<ResourceKind, KindInfo>> = {
  IPPool: {
    kind: 'IPPool',
    plural: 'ippools',
    listKind: 'IPPoolList',
    namespaced: false,
    aliases: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'],
  },
  IPReservation: {
    kind: 'IPReservation',
    plural: 'ipreservations',
    listKind: 'IPReservationList',
    namespaced: false,
    aliases: ['ipreservation', 'ipreservations', 'reservation', 'reservations'],
  },
  IPAMConfiguration: {
    kind: 'IPAMConfiguration',
    plural: 'ipamconfigurations',
    listKind: 'IPAMConfigurationList',
    namespaced: false,
    aliases: ['ipamconfiguration', 'ipamconfigurations', 'ipamconfig', 'ipamconfigs'],
  },
  Node: {
    kind: 'Node',
    plural: 'nodes',
    listKind: 'NodeList',
    namespaced: false,
    aliases: ['node', 'nodes', 'no', 'nos'],
  },
  WorkloadEndpoint: {
    kind: 'WorkloadEndpoint',
    plural: 'workloadendpoints',
    listKind: 'WorkloadEndpointList',
    namespaced: true,
    aliases: ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'],
  },
  BGPConfiguration: {
    kind: 'BGPConfiguration',
    plural: 'bgpconfigurations',
    listKind: 'BGPConfigurationList',
    namespaced: false,
    aliases: ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs'],
  },
  BGPPeer: {
    kind: 'BGPPeer',
    plural: 'bgppeers',
    listKind: 'BGPPeerList',
    namespaced: false,
    aliases: ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps'],
  },
  FelixConfiguration: {
    kind: 'FelixConfiguration',
    plural: 'felixconfigurations',
    listKind: 'FelixConfigurationList',
    namespaced: false,
    aliases: ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs'],
  },
};
