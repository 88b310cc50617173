// Datastore keys and values into the DataplaneModel: the three prefixes the dataplane watches
// (IPPools, Nodes, IPAM blocks) and what a put or delete of each means.
import { blockCidrFromKey, blocksPrefix, resourcePrefix } from '../datastore/keys.js';
import { canonicalCidrText, decodeBlockInfo, decodeNode, decodePool } from './decode.js';
import type { DataplaneModel } from './dataplane-model.js';

/** The prefixes whose keys feed the model, in the order a snapshot should load them. */
export const DATAPLANE_PREFIXES: readonly string[] = [
  resourcePrefix('IPPool'),
  resourcePrefix('Node'),
  blocksPrefix(),
];

/**
 * Apply one key's value (undefined: deleted) to the model. Returns undefined, or why the value
 * was skipped (undecodable: the model keeps what it had for that key).
 */
export function applyDatastoreKey(
  model: DataplaneModel,
  key: string,
  value: string | undefined,
): string | undefined {
  const [pools, nodes] = DATAPLANE_PREFIXES as [string, string, string];
  if (key.startsWith(pools)) {
    const name = key.slice(pools.length);
    if (value === undefined) {
      model.setPool(name, undefined);
      return undefined;
    }
    const decoded = decodePool(value);
    if (!decoded.ok) return `IPPool ${name}: ${decoded.reason}`;
    model.setPool(name, decoded.value);
    return undefined;
  }
  if (key.startsWith(nodes)) {
    const name = key.slice(nodes.length);
    if (value === undefined) {
      model.setNode(name, undefined);
      return undefined;
    }
    const decoded = decodeNode(value);
    if (!decoded.ok) return `Node ${name}: ${decoded.reason}`;
    model.setNode(name, decoded.value);
    return undefined;
  }
  const cidrText = blockCidrFromKey(key);
  if (cidrText === undefined) return undefined; // another key under the IPAM prefix
  let canonical: string;
  try {
    canonical = canonicalCidrText(cidrText);
  } catch {
    return `block key ${key}: ${JSON.stringify(cidrText)} is not a CIDR`;
  }
  if (value === undefined) {
    model.setBlock(canonical, undefined);
    return undefined;
  }
  const decoded = decodeBlockInfo(value, key);
  if (!decoded.ok) return `block ${cidrText}: ${decoded.reason}`;
  model.setBlock(canonical, decoded.value);
  return undefined;
}
