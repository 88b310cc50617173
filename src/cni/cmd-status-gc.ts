// STATUS and GC, the CNI 1.1.0 commands.
import { listAll } from '../datastore/api.js';
import { HANDLES_PREFIX, IPAM_CONFIG_KEY, resourcePrefix } from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { WorkloadEndpoint } from '../resources/types.js';
import type { NetConf } from './config.js';
import { toDatastoreConfig } from './datastore-config.js';
import { heldAddresses, openSession, releaseIfPresent } from './session.js';

/**
 * STATUS: succeed when the datastore can be opened and read. Throws CNI_NOT_READY (code 50,
 * "plugin not available") otherwise, with the underlying error as the message.
 */
export async function runStatus(conf: NetConf, processEnv: NodeJS.ProcessEnv): Promise<void> {
  try {
    const session = await openSession(toDatastoreConfig(conf, processEnv));
    try {
      await session.store.get(IPAM_CONFIG_KEY);
    } finally {
      await session.close().catch(() => undefined);
    }
  } catch (err) {
    if (isCidrpoolError(err) && err.spec.cniCode === 7) throw err; // bad config stays code 7
    throw new CidrpoolError('CNI_NOT_READY', `datastore not available: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * GC: release the handles of this network whose container is not in
 * `cni.dev/valid-attachments`, but only those whose addresses belong to `node` (handles of other
 * nodes' pods share the store), and delete their endpoints. Returns the handles released.
 */
export async function runGc(
  conf: NetConf,
  processEnv: NodeJS.ProcessEnv,
  node: string,
): Promise<string[]> {
  const valid = new Set((conf.validAttachments ?? []).map((a) => a.containerID));
  const session = await openSession(toDatastoreConfig(conf, processEnv));
  const released: string[] = [];
  try {
    const prefix = `${HANDLES_PREFIX}${conf.name}.`;
    const stale = new Set<string>();
    for (const kv of await listAll(session.store, prefix)) {
      const containerId = kv.key.slice(prefix.length);
      if (valid.has(containerId)) continue;
      const handleId = `${conf.name}.${containerId}`;
      const ips = await heldAddresses(session, handleId);
      const first = ips[0]
        ? await session.ipam.getAssignmentAttributes(ips[0].split('/')[0]!)
        : undefined;
      if (first && first.attrs.node !== node) continue;
      await releaseIfPresent(session, handleId);
      released.push(handleId);
      stale.add(containerId);
    }
    for (const kv of await listAll(session.store, resourcePrefix('WorkloadEndpoint'))) {
      let wep: WorkloadEndpoint;
      try {
        wep = JSON.parse(kv.value) as WorkloadEndpoint;
      } catch {
        continue;
      }
      if (wep.spec?.node === node && wep.spec.containerID && stale.has(wep.spec.containerID)) {
        await session.store.delete(kv.key, kv.revision).catch(() => undefined);
      }
    }
  } finally {
    await session.close().catch(() => undefined);
  }
  return released;
}
