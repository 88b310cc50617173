// Many agents' caches in one benchmark process, each with its own watches, as on separate
// nodes: every `watch` of a view is served by one datastore watch per key range (`roots`) and
// dispatched here by key, which is what etcd's watch fan-out does server-side. Thousands of
// agents cannot each hold their own datastore watches in one process (an embedded-store watch
// is a poller of the revision log), so this stands in for the datastore's side only: each
// cache still receives exactly the events of its own prefixes and keys.
import type { Datastore, Revision, WatchEvent, Watcher } from '../src/datastore/api.js';

interface Subscriber {
  readonly after: bigint;
  readonly onEvent: (event: WatchEvent) => void;
}

/** One datastore watch per root; views watch any prefix under a root. */
export interface WatchHub {
  /** `store` with `watch` served by the hub (closing it closes nothing): for each cache. */
  view(): Datastore;
  /** Subscriptions open now (each one a watch of an agent). */
  readonly subscriptions: number;
  close(): Promise<void>;
}

/** Start the hub's watches at the store's current revision: start caches after this. */
export async function startWatchHub(store: Datastore, roots: readonly string[]): Promise<WatchHub> {
  const { revision } = await store.list(roots[0]!, { limit: 1, keysOnly: true });
  const start = BigInt(revision);
  /** Per root, subscribers by their prefix, and the prefix lengths in use. */
  const byRoot = roots.map(() => ({
    prefixes: new Map<string, Set<Subscriber>>(),
    lengths: new Map<number, number>(),
  }));
  let subscriptions = 0;
  const dispatch = (root: number, event: WatchEvent) => {
    const { prefixes, lengths } = byRoot[root]!;
    const revision = BigInt(event.revision);
    for (const length of lengths.keys()) {
      const subscribers = prefixes.get(event.key.slice(0, length));
      if (subscribers) for (const s of subscribers) if (revision > s.after) s.onEvent(event);
    }
  };
  const watchers: Watcher[] = roots.map((root, i) =>
    store.watch(root, revision, (event) => dispatch(i, event)),
  );
  const watch = (
    prefix: string,
    afterRevision: Revision,
    onEvent: (event: WatchEvent) => void,
  ): Watcher => {
    const root = roots.findIndex((r) => prefix.startsWith(r));
    if (root < 0) throw new Error(`watch hub: ${prefix} is under no root`);
    const after = BigInt(afterRevision);
    if (after < start)
      throw new Error(`watch hub: ${prefix} from ${after}, before the hub's start`);
    const { prefixes, lengths } = byRoot[root]!;
    const subscriber: Subscriber = { after, onEvent };
    const set = prefixes.get(prefix) ?? new Set();
    set.add(subscriber);
    prefixes.set(prefix, set);
    lengths.set(prefix.length, (lengths.get(prefix.length) ?? 0) + 1);
    subscriptions++;
    let open = true;
    return {
      async close() {
        if (!open) return;
        open = false;
        subscriptions--;
        set.delete(subscriber);
        if (set.size === 0) prefixes.delete(prefix);
        const left = lengths.get(prefix.length)! - 1;
        if (left === 0) lengths.delete(prefix.length);
        else lengths.set(prefix.length, left);
      },
    };
  };
  // The store's calls, bound once (its classes keep private fields), and the hub's watch.
  const view: Datastore = {
    type: store.type,
    get: (key) => store.get(key),
    list: (prefix, options) => store.list(prefix, options),
    readMany: (requests) => store.readMany(requests),
    create: (key, value) => store.create(key, value),
    update: (key, value, expected) => store.update(key, value, expected),
    put: (key, value) => store.put(key, value),
    delete: (key, expected) => store.delete(key, expected),
    txn: (conditions, operations) => store.txn(conditions, operations),
    watch,
    close: async () => undefined,
  };
  return {
    view: () => view,
    get subscriptions() {
      return subscriptions;
    },
    async close() {
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
