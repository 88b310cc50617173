// Whether a CNI call's datastore is the agent's (src/cni/in-agent.ts asks before it runs the
// call). The embedded store is its data dir. An etcd cluster is its cluster ID, read from a
// member's response header: one cluster named by other endpoint lists (a subset, host names
// for addresses) is the same datastore, and another cluster is another, whatever the text.
import { datastoreIdentity } from '../client/agent-protocol.js';
import type { DatastoreConfig, EtcdConfig } from '../datastore/config-types.js';

/** How long a cluster ID read is trusted: a cluster replaced behind an address is seen after it. */
const CLUSTER_ID_TTL_MS = 30_000;

/**
 * A check for `own` (the agent's datastore): resolves to why a call's `config` names another
 * datastore, or undefined when it is the same. A cluster that cannot be asked counts as another
 * (the plugin then goes to the datastore itself and reports what it finds).
 */
export function datastoreMatcher(
  own: DatastoreConfig,
  readClusterId: (config: EtcdConfig) => Promise<string>,
  now: () => number = Date.now,
): (config: DatastoreConfig) => Promise<string | undefined> {
  const ownText = datastoreIdentity(own);
  const ids = new Map<string, { readonly id: Promise<string>; readonly at: number }>();
  /** The cluster ID of `config`, read at most once per TTL per endpoint list. */
  function clusterIdOf(config: EtcdConfig): Promise<string> {
    const key = datastoreIdentity(config);
    const cached = ids.get(key);
    if (cached && now() - cached.at < CLUSTER_ID_TTL_MS) return cached.id;
    const id = readClusterId(config);
    ids.set(key, { id, at: now() });
    id.catch(() => ids.delete(key));
    return id;
  }
  return async (config) => {
    const text = datastoreIdentity(config);
    if (own.type !== 'etcdv3' || config.type !== 'etcdv3') {
      return text === ownText ? undefined : `this agent serves datastore ${ownText}, not ${text}`;
    }
    try {
      const [mine, theirs] = await Promise.all([clusterIdOf(own), clusterIdOf(config)]);
      if (mine === theirs) return undefined;
      return `this agent serves etcd cluster ${mine} (${ownText}), the call's ${text} is cluster ${theirs}`;
    } catch (err) {
      return `the etcd cluster of ${text} could not be identified: ${String(err)}`;
    }
  };
}
