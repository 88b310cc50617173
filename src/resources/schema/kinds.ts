// The structural schema of every kind a manifest may hold: the v3 kinds, their List kinds and the
// legacy v1 `ipPool`. Field names are Calico's, exactly.
import type { ResourceKind } from '../types.js';
import type { Shape } from './shape.js';

const str: Shape = { type: 'string' };
const bool: Shape = { type: 'boolean' };
const int: Shape = { type: 'integer' };
const any: Shape = { type: 'any' };
const strings: Shape = { type: 'array', items: str };
const obj = (fields: Record<string, Shape>): Shape => ({ type: 'object', fields });
const encap: Shape = { type: 'string', enum: ['Never', 'Always', 'CrossSubnet', ''] };

/** Kubernetes ObjectMeta: every field calicoctl output may carry is known, not only ours. */
export const OBJECT_META: Shape = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  labels: { type: 'map', values: str },
  annotations: { type: 'map', values: str },
  ownerReferences: any,
  finalizers: strings,
  managedFields: any,
});

// Field order in every object below is Calico's Go struct declaration order: JSON output and the
// stored form take their key order from here (canonical.ts), so this is the one place to fix it.
const top = (spec: Shape, status: Shape = any): Shape =>
  obj({ kind: str, apiVersion: str, metadata: OBJECT_META, spec, status });

/** metav1.Condition, as IPPool status carries it. */
const CONDITION: Shape = obj({
  type: str,
  status: str,
  observedGeneration: int,
  lastTransitionTime: str,
  reason: str,
  message: str,
});

/** numorstring.ASNumber: a 32-bit unsigned AS number. */
const asNumber: Shape = { type: 'integer', min: 0, max: 4294967295 };
/** A metav1.Duration is a Go duration string (`90s`, `2m0s`). */
const duration: Shape = str;
const cidrBlocks: Shape = { type: 'array', items: obj({ cidr: str }) };
const password: Shape = obj({ secretKeyRef: obj({ name: str, key: str, optional: bool }) });

const SPECS: Record<ResourceKind, Shape> = {
  IPPool: top(
    obj({
      cidr: str,
      vxlanMode: encap,
      ipipMode: encap,
      natOutgoing: bool,
      disabled: bool,
      disableBGPExport: bool,
      blockSize: { type: 'integer', min: -2147483648, max: 2147483647 },
      nodeSelector: str,
      namespaceSelector: str,
      // Items are strings here; rule 10 reports unknown uses with Calico's own words.
      allowedUses: strings,
      assignmentMode: { type: 'string', enum: ['Automatic', 'Manual', ''] },
    }),
    obj({ conditions: { type: 'array', items: CONDITION } }),
  ),
  IPReservation: top(obj({ reservedCIDRs: strings })),
  IPAMConfiguration: top(
    obj({
      strictAffinity: bool,
      autoAllocateBlocks: bool,
      maxBlocksPerHost: int,
      kubeVirtVMAddressPersistence: { type: 'string', enum: ['Enabled', 'Disabled'] },
      ipCooldownSeconds: int,
    }),
  ),
  Node: top(
    obj({
      bgp: obj({
        asNumber: int,
        ipv4Address: str,
        ipv6Address: str,
        ipv4IPIPTunnelAddr: str,
        routeReflectorClusterID: str,
      }),
      ipv4VXLANTunnelAddr: str,
      vxlanTunnelMACAddr: str,
      ipv6VXLANTunnelAddr: str,
      vxlanTunnelMACAddrV6: str,
      orchRefs: { type: 'array', items: obj({ nodeName: str, orchestrator: str }) },
      wireguard: obj({ interfaceIPv4Address: str, interfaceIPv6Address: str }),
      addresses: { type: 'array', items: obj({ address: str, type: str }) },
    }),
    obj({ wireguardPublicKey: str, wireguardPublicKeyV6: str, podCIDRs: strings }),
  ),
  WorkloadEndpoint: top(
    obj({
      orchestrator: str,
      workload: str,
      node: str,
      containerID: str,
      pod: str,
      endpoint: str,
      serviceAccountName: str,
      ipNetworks: strings,
      ipNATs: { type: 'array', items: obj({ internalIP: str, externalIP: str }) },
      ipv4Gateway: str,
      ipv6Gateway: str,
      profiles: strings,
      interfaceName: str,
      mac: str,
      ports: {
        type: 'array',
        // Calico's protocol is a number or a name (numorstring.Protocol).
        items: obj({ name: str, protocol: any, port: int, hostPort: int, hostIP: str }),
      },
      allowSpoofedSourcePrefixes: strings,
    }),
  ),
  BGPConfiguration: top(
    obj({
      logSeverityScreen: str,
      nodeToNodeMeshEnabled: bool,
      asNumber,
      extensions: { type: 'map', values: str },
      serviceLoadBalancerIPs: cidrBlocks,
      serviceExternalIPs: cidrBlocks,
      serviceClusterIPs: cidrBlocks,
      serviceLoadBalancerAggregation: { type: 'string', enum: ['Enabled', 'Disabled'] },
      communities: { type: 'array', items: obj({ name: str, value: str }) },
      prefixAdvertisements: { type: 'array', items: obj({ cidr: str, communities: strings }) },
      listenPort: { type: 'integer', min: 1, max: 65535 },
      nodeMeshPassword: password,
      nodeMeshMaxRestartTime: duration,
      bindMode: { type: 'string', enum: ['None', 'NodeIP'] },
      ignoredInterfaces: strings,
      localWorkloadPeeringIPV4: str,
      localWorkloadPeeringIPV6: str,
      programClusterRoutes: str,
      ipv4NormalRoutePriority: { type: 'integer', min: 1, max: 2147483646 },
      ipv6NormalRoutePriority: { type: 'integer', min: 1, max: 2147483646 },
    }),
  ),
  // A subset of Felix's ~150 fields (types.ts says which); in felixconfig.go's order by group.
  FelixConfiguration: top(
    obj({
      logSeverityScreen: str,
      logSeverityFile: str,
      logSeveritySys: str,
      reportingInterval: duration,
      healthPort: { type: 'integer', min: 0, max: 65535 },
      prometheusMetricsEnabled: bool,
      prometheusMetricsPort: { type: 'integer', min: 0, max: 65535 },
      ipv6Support: bool,
      iptablesBackend: { type: 'string', enum: ['Legacy', 'NFT', 'Auto'] },
      nftablesMode: { type: 'string', enum: ['Disabled', 'Enabled', 'Auto'] },
      ipipEnabled: bool,
      ipipMTU: { type: 'integer', min: 0, max: 65535 },
      vxlanEnabled: bool,
      vxlanMTU: { type: 'integer', min: 0, max: 65535 },
      vxlanMTUV6: { type: 'integer', min: 0, max: 65535 },
      vxlanPort: { type: 'integer', min: 1, max: 65535 },
      vxlanVNI: { type: 'integer', min: 1, max: 16777215 },
      mtuIfacePattern: str,
      natOutgoingAddress: str,
      // numorstring.Port: a number or "min:max".
      natPortRange: any,
      natOutgoingExclusions: { type: 'string', enum: ['IPPoolsOnly', 'IPPoolsAndHostIPs'] },
      iptablesNATOutgoingInterfaceFilter: str,
      routeSource: { type: 'string', enum: ['CalicoIPAM', 'WorkloadIPs'] },
      programClusterRoutes: { type: 'string', enum: ['Enabled', 'Disabled', 'EnabledIPIPOnly'] },
      deviceRouteProtocol: { type: 'integer', min: 0, max: 255 },
      deviceRouteSourceAddress: str,
      deviceRouteSourceAddressIPv6: str,
      removeExternalRoutes: bool,
      routeRefreshInterval: duration,
      routeSyncDisabled: bool,
      externalNodesList: strings,
      bpfEnabled: bool,
      bpfLogLevel: str,
      bpfConnectTimeLoadBalancing: str,
      bpfHostNetworkedNATWithoutCTLB: str,
      floatingIPs: { type: 'string', enum: ['Enabled', 'Disabled'] },
      wireguardEnabled: bool,
      wireguardEnabledV6: bool,
    }),
  ),
  BGPPeer: top(
    obj({
      node: str,
      nodeSelector: str,
      peerIP: str,
      asNumber,
      localASNumber: asNumber,
      extensions: { type: 'map', values: str },
      peerSelector: str,
      keepOriginalNextHop: bool,
      nextHopMode: { type: 'string', enum: ['Auto', 'Self', 'Keep'] },
      password,
      sourceAddress: { type: 'string', enum: ['UseNodeIP', 'None'] },
      failureDetectionMode: { type: 'string', enum: ['None', 'BFDIfDirectlyConnected'] },
      restartMode: { type: 'string', enum: ['GracefulRestart', 'LongLivedGracefulRestart'] },
      maxRestartTime: duration,
      birdGatewayMode: { type: 'string', enum: ['Recursive', 'DirectIfDirectlyConnected'] },
      keepaliveTime: duration,
      numAllowedLocalASNumbers: { type: 'integer', min: 0, max: 2147483647 },
      ttlSecurity: { type: 'integer', min: 0, max: 255 },
      filters: strings,
      externalNetwork: str,
      reachableBy: str,
      localWorkloadSelector: str,
      reversePeering: { type: 'string', enum: ['Auto', 'Manual'] },
    }),
  ),
};

/** The schema of a v3 resource of `kind`. */
export const shapeOfKind = (kind: ResourceKind): Shape => SPECS[kind];

/** A typed List (`IPPoolList`): list metadata and items, each item checked on its own. */
export const LIST_SHAPE: Shape = obj({
  kind: str,
  apiVersion: str,
  metadata: obj({ selfLink: str, resourceVersion: str, continue: str, remainingItemCount: int }),
  items: { type: 'array', items: any },
});

/** The calicoctl v1 `ipPool` (surfaces.md §5.1). */
export const V1_IPPOOL_SHAPE: Shape = obj({
  apiVersion: str,
  kind: str,
  metadata: obj({ cidr: str }),
  spec: obj({
    ipip: obj({ enabled: bool, mode: str }),
    'nat-outgoing': bool,
    disabled: bool,
  }),
});
