// Leader loss in a 3-member etcd cluster: writers keep going through the store (which moves to
// another endpoint and retries within its deadline), every acknowledged write is readable
// afterwards, and a watch opened before the kill sees every one of them, in revision order.
// Run twice: with the store talking to the leader (its connection breaks) and to a follower
// (its member loses the leader; writes in flight wait for a new one).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isCidrpoolError } from '../../src/errors/index.js';
import { listAll, type Datastore, type WatchEvent } from '../../src/datastore/api.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';

const WRITERS = 4;
const WRITES_PER_WRITER = 120;
const KILL_AFTER_ACKS = 80;
const PREFIX = '/cidrpool-failover/';
/** The store's deadline per call; an attempt on a member that lost its leader gets half. */
const CALL_TIMEOUT_MS = 2000;

interface RunResult {
  acked: number;
  ackedAfterKill: number;
  ambiguous: number;
  elapsedMs: number;
}

/** Writers through `store` while the leader is SIGKILLed; checks what was acknowledged. */
async function writeThroughLeaderLoss(
  cluster: EtcdCluster,
  store: Datastore,
  leader: number,
): Promise<RunResult> {
  const start = await store.list(PREFIX);
  const seen: WatchEvent[] = [];
  const watchErrors: Error[] = [];
  const watcher = store.watch(
    PREFIX,
    start.revision,
    (event) => seen.push(event),
    (error) => watchErrors.push(error),
  );

  const acked = new Map<string, string>();
  const failures: string[] = [];
  let ackedAfterKill = 0;
  let killed: Promise<void> | undefined;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; i < WRITES_PER_WRITER; i++) {
      const key = `${PREFIX}w${w}/${String(i).padStart(4, '0')}`;
      const value = JSON.stringify({ w, i });
      try {
        // Alternate CAS creates and unconditional puts: both paths must fail over.
        if (i % 2 === 0) await store.create(key, value);
        else await store.put(key, value);
        acked.set(key, value);
        if (killed) ackedAfterKill++;
      } catch (error) {
        assert.ok(isCidrpoolError(error, 'DS_UNAVAILABLE'), `unexpected: ${String(error)}`);
        failures.push(`${key}: ${error.message}`);
      }
      if (!killed && acked.size >= KILL_AFTER_ACKS) killed = cluster.kill(leader);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  await killed;
  const elapsedMs = Date.now() - started;

  assert.ok(killed, 'the leader was killed during the run');
  assert.ok(ackedAfterKill > 0, 'writes went on after the kill');
  // Only a write in flight at the kill can end ambiguous: at most one per writer.
  assert.ok(failures.length <= WRITERS, `too many failed writes:\n${failures.join('\n')}`);
  assert.equal(acked.size + failures.length, WRITERS * WRITES_PER_WRITER);

  const stored = new Map((await listAll(store, PREFIX)).map((kv) => [kv.key, kv.value]));
  for (const [key, value] of acked) assert.equal(stored.get(key), value, key);

  // The watch catches up with every acknowledged write (bounded wait that ends when it has).
  const watched = new Set<string>();
  const missing = () => {
    for (const event of seen) watched.add(event.key);
    return [...acked.keys()].filter((key) => !watched.has(key));
  };
  const deadline = Date.now() + 10_000;
  while (missing().length > 0 && watchErrors.length === 0 && Date.now() < deadline) {
    await delay(20);
  }
  await watcher.close();
  assert.deepEqual(watchErrors, []);
  assert.deepEqual(missing(), [], 'the watch missed acknowledged writes');
  for (let i = 1; i < seen.length; i++) {
    assert.ok(
      BigInt(seen[i]!.revision) > BigInt(seen[i - 1]!.revision),
      `watch events in revision order without repeats (${seen[i - 1]!.revision}, ${seen[i]!.revision})`,
    );
  }
  return { acked: acked.size, ackedAfterKill, ambiguous: failures.length, elapsedMs };
}

describe('etcd store failover (3 members, leader SIGKILLed)', () => {
  const clusters: EtcdCluster[] = [];
  const stores: Datastore[] = [];
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all(clusters.map((cluster) => cluster.stop()));
  });

  for (const talkTo of ['leader', 'follower'] as const) {
    it(`with the store on the ${talkTo}: acknowledged writes survive, the watch misses nothing`, async () => {
      const cluster = await startEtcd({ members: 3 });
      clusters.push(cluster);
      const leader = await cluster.leaderIndex();
      // The store prefers the first endpoint that answers, in the configured order.
      const others = cluster.endpoints.filter((_, i) => i !== leader);
      const endpoints =
        talkTo === 'leader'
          ? [cluster.endpoints[leader]!, ...others]
          : [...others, cluster.endpoints[leader]!];
      const store = await openEtcdStore({
        type: 'etcdv3',
        endpoints,
        callTimeoutMs: CALL_TIMEOUT_MS,
      });
      stores.push(store);
      const result = await writeThroughLeaderLoss(cluster, store, leader);
      console.log(`failover, store on the ${talkTo}: ${JSON.stringify(result)}`);
    });
  }
});
