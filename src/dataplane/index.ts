// Public surface of src/dataplane, the node agent's pure core: desired kernel state from
// datastore state, and its diff against actual state. No I/O.
export * from './types.js';
export {
  DataplaneModel,
  routeSignature,
  sameRoute,
  type ModelChanges,
  type Vtep,
  type VtepEntries,
} from './dataplane-model.js';
export { DATAPLANE_PREFIXES, applyDatastoreKey } from './datastore-feed.js';
export {
  affinityHost,
  canonicalCidrText,
  decodeBlockInfo,
  decodeNode,
  decodePool,
  hostCidrText,
  parseHostAddress,
  poolTypeOf,
} from './decode.js';
export {
  diffAllRoutes,
  diffEntries,
  diffRouteKeys,
  sameFdb,
  sameNeighbour,
  type ActualRoute,
  type EntryChanges,
} from './diff.js';
export { DEFAULT_MTU_IFACE_PATTERN, FALLBACK_HOST_MTU, hostMtu, type InterfaceMtu } from './mtu.js';
export { vtepMac } from './vtep-mac.js';
export { TUNNEL_KINDS, tunnelPools, type TunnelKind, type TunnelPools } from './tunnel-pools.js';
