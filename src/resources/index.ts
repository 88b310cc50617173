// Public surface of src/resources.
export * from './types.js';
export * from './messages.js';
export {
  withDefaults,
  copyWithoutNulls,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_NODE_SELECTOR,
  DEFAULT_ALLOWED_USES,
} from './defaults.js';
export { canonicalizeResource, orderResourceKeys, schemaFieldNames } from './canonical.js';
export { isPlainObject } from './schema/shape.js';
export {
  validateResource,
  validateUpdate,
  assertValidResource,
  formatValidationMessage,
  formatIssueCalicoStyle,
  isResourceKind,
  unknownTypeMessage,
} from './validate.js';
export { isEncapEnabled, tryParsePoolCidr } from './validation/ip-pool.js';
export { tryParsePeerIp, peerIpText, type PeerAddress } from './validation/bgp.js';
export { convertV1IpPool, validateV1IpPool, v1PoolName, type V1IpPool } from './v1-ip-pool.js';
export { readManifests, type ManifestResource } from './manifest/read-manifests.js';
export { splitDocuments, type DocumentChunk } from './manifest/split-documents.js';
export {
  readManifestSource,
  readManifestTexts,
  type ManifestText,
  type ManifestSource,
  type ManifestSourceOptions,
} from './manifest/read-manifest-source.js';
