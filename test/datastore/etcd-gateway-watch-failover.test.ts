// The JSON gateway's watch on a real 3-member etcd: when the member it streams from is killed,
// the watch opens again on another endpoint from the revision after its last event, so the
// watcher misses no event and sees no error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Datastore, WatchEvent } from '../../src/datastore/api.js';
import { openEtcdGatewayStore } from '../../src/datastore/etcd-gateway/index.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';

/** Poll `ready` every 20 ms for up to `ms`; false if it never held. */
async function eventually(ready: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (ready()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return ready();
}

describe('etcd JSON gateway watch: failover to another member', () => {
  let cluster: EtcdCluster;
  let watched: Datastore;
  let writer: Datastore;
  before(async () => {
    cluster = await startEtcd({ members: 3 });
  });
  after(async () => {
    await watched?.close();
    await writer?.close();
    await cluster?.stop();
  });

  it('keeps delivering, in order and without an error, after its member is killed', async () => {
    // The watch streams from the first endpoint: the connection has not failed over yet.
    watched = await openEtcdGatewayStore({ type: 'etcdv3', endpoints: cluster.endpoints });
    writer = await openEtcdGatewayStore({
      type: 'etcdv3',
      endpoints: cluster.endpoints.slice(1),
    });
    const first = await writer.put('/cpfp/a', '1');
    const events: WatchEvent[] = [];
    const errors: Error[] = [];
    const watcher = watched.watch(
      '/cpfp/',
      String(BigInt(first.revision) - 1n),
      (event) => events.push(event),
      (error) => errors.push(error),
    );
    try {
      assert.ok(await eventually(() => events.length === 1, 10_000), 'the first event came');
      await cluster.kill(0);
      // Writes need the two members left to agree on a leader (if the killed one led): retry.
      const written: string[] = [];
      for (let i = 0; i < 3; i++) {
        for (let attempt = 0; attempt < 50; attempt++) {
          try {
            await writer.put(`/cpfp/b${i}`, String(i));
            written.push(`/cpfp/b${i}`);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
      assert.equal(written.length, 3, 'the two members left took the writes');
      assert.ok(
        await eventually(() => events.length === 4 || errors.length > 0, 20_000),
        `events after the kill: ${JSON.stringify(events)}`,
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(
        events.map((e) => e.key),
        ['/cpfp/a', ...written],
      );
      const revisions = events.map((e) => BigInt(e.revision));
      assert.deepEqual(
        revisions,
        [...revisions].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      );
    } finally {
      await watcher.close();
    }
  });
});
