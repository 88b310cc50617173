// ClusterInformation-like state kept by the CLI: the cluster GUID that `ipam check` reports
// carry, and the datastore lock (`datastoreReady: false`) that `ipam split` and
// `ipam release --from-report` require. Stored where Calico keeps its ClusterInformation in etcd.
import { randomBytes } from 'node:crypto';
import type { Datastore } from '../datastore/api.js';
import { RESOURCES_PREFIX } from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';

/** Calico's etcd key of ClusterInformation `default`. */
export const CLUSTER_INFO_KEY = `${RESOURCES_PREFIX}clusterinformations/default`;

/** The stored ClusterInformation (the fields cidrpool uses). */
export interface ClusterInformation {
  apiVersion: 'projectcalico.org/v3';
  kind: 'ClusterInformation';
  metadata: { name: 'default'; creationTimestamp?: string };
  spec: {
    clusterGUID: string;
    clusterType: string;
    datastoreReady: boolean;
    calicoVersion?: string;
  };
}

/** ClusterInformation with the revision it was read at. */
export interface StoredClusterInformation {
  readonly info: ClusterInformation;
  /** The key's revision (a report's `clusterInformationRevision`). */
  readonly revision: string;
}

function freshInformation(store: Datastore): ClusterInformation {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'ClusterInformation',
    metadata: {
      name: 'default',
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    },
    spec: {
      clusterGUID: randomBytes(16).toString('hex'),
      clusterType: `cidrpool,${store.type}`,
      datastoreReady: true,
    },
  };
}

/** The stored ClusterInformation, created (ready, with a new GUID) when missing. */
export async function getClusterInformation(store: Datastore): Promise<StoredClusterInformation> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const kv = await store.get(CLUSTER_INFO_KEY);
    if (kv) return { info: JSON.parse(kv.value) as ClusterInformation, revision: kv.revision };
    try {
      const created = await store.create(CLUSTER_INFO_KEY, JSON.stringify(freshInformation(store)));
      return { info: JSON.parse(created.value) as ClusterInformation, revision: created.revision };
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_ALREADY_EXISTS')) throw err;
    }
  }
  throw new CidrpoolError('INTERNAL', 'ClusterInformation could not be read or created');
}

/** Set `datastoreReady` (false = locked); a compare-and-swap retried a few times. */
export async function setDatastoreReady(store: Datastore, ready: boolean): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { info, revision } = await getClusterInformation(store);
    if (info.spec.datastoreReady === ready) return;
    info.spec.datastoreReady = ready;
    try {
      await store.update(CLUSTER_INFO_KEY, JSON.stringify(info), revision);
      return;
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT')) throw err;
    }
  }
  throw new CidrpoolError('DS_CONFLICT', 'ClusterInformation kept changing; try again');
}

/** True when the datastore is locked (`datastore migrate lock`). */
export async function isDatastoreLocked(store: Datastore): Promise<boolean> {
  return !(await getClusterInformation(store)).info.spec.datastoreReady;
}
