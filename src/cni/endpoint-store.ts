// Writes and removes the WorkloadEndpoint at Calico's key. The JSON is the v3 resource, as the
// resource client stores it; writing it here keeps the plugin's start-up free of the client's
// validation machinery, which an endpoint the plugin builds itself does not need.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Datastore } from '../datastore/api.js';
import { resourceKey } from '../datastore/keys.js';
import { isCidrpoolError } from '../errors/index.js';
import type { WorkloadEndpoint } from '../resources/types.js';

/**
 * A random (version 4) UUID from /dev/urandom, as crypto.randomUUID() makes: importing
 * `node:crypto` would load 17 modules (~3 ms) for this one call, and the plugin runs on Linux.
 */
export function randomUuid(): string {
  const bytes = Buffer.alloc(16);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, bytes, 0, 16, null);
  } finally {
    closeSync(fd);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The endpoint stored under `name` in `namespace`, or undefined (also when undecodable). */
export async function findEndpoint(
  store: Datastore,
  name: string,
  namespace: string,
): Promise<WorkloadEndpoint | undefined> {
  const current = await store.get(resourceKey('WorkloadEndpoint', name, namespace));
  if (!current) return undefined;
  try {
    return JSON.parse(current.value) as WorkloadEndpoint;
  } catch {
    return undefined;
  }
}

/** Create or replace the endpoint (a retried ADD replaces its own earlier endpoint). */
export async function writeEndpoint(store: Datastore, wep: WorkloadEndpoint): Promise<void> {
  const key = resourceKey('WorkloadEndpoint', wep.metadata.name, wep.metadata.namespace);
  const stored = { ...wep, metadata: { ...wep.metadata, uid: wep.metadata.uid ?? randomUuid() } };
  await store.put(key, JSON.stringify(stored));
}

/**
 * Delete the endpoint if it belongs to `containerId` (as Calico does: a DEL for an old
 * sandbox must not remove the endpoint of the pod's new one). Absent: nothing to do.
 * Returns whether an endpoint was deleted.
 */
export async function deleteEndpoint(
  store: Datastore,
  name: string,
  namespace: string,
  containerId: string,
): Promise<boolean> {
  const key = resourceKey('WorkloadEndpoint', name, namespace);
  const current = await store.get(key);
  if (!current) return false;
  let owner: string | undefined;
  try {
    owner = (JSON.parse(current.value) as WorkloadEndpoint).spec?.containerID;
  } catch {
    owner = undefined; // undecodable: ours to clean up
  }
  if (owner && owner !== containerId) return false;
  try {
    await store.delete(key, current.revision);
    return true;
  } catch (err) {
    // Gone or replaced meanwhile: either way not ours to delete any more.
    if (isCidrpoolError(err, 'DS_NOT_FOUND', 'DS_CONFLICT')) return false;
    throw err;
  }
}
