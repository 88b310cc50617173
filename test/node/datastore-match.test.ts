// The agent's check that a CNI call names its datastore (src/node/datastore-match.ts), with
// the cluster-ID read and the clock given (test/node/ipam-socket.test.ts runs it on real etcd).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { datastoreMatcher } from '../../src/node/datastore-match.js';

const etcd = (...endpoints: string[]): EtcdConfig => ({ type: 'etcdv3', endpoints });

describe('datastoreMatcher', () => {
  it('matches the embedded store by its data dir', async () => {
    const other = datastoreMatcher({ type: 'embedded', dataDir: '/var/lib/x/' }, () =>
      Promise.reject(new Error('not etcd')),
    );
    assert.equal(await other({ type: 'embedded', dataDir: '/var/lib/x' }), undefined);
    assert.match(String(await other({ type: 'embedded', dataDir: '/var/lib/y' })), /not embedded/);
    assert.match(String(await other(etcd('http://a:2379'))), /not etcdv3:http:\/\/a:2379/);
  });

  it('matches etcd by cluster ID, read once per 30 s per endpoint list', async () => {
    let clock = 0;
    const clusters: Record<string, string> = { a: '11', b: '11', c: '22' };
    const reads: string[] = [];
    const other = datastoreMatcher(
      etcd('http://a:2379', 'http://b:2379'),
      async (config) => {
        reads.push(config.endpoints.join(','));
        return clusters[new URL(config.endpoints[0]!).hostname]!;
      },
      () => clock,
    );
    assert.equal(await other(etcd('http://b:2379')), undefined, 'one cluster, another list');
    assert.match(String(await other(etcd('http://c:2379'))), /cluster 11 .* is cluster 22/);
    assert.equal(await other(etcd('http://b:2379')), undefined);
    assert.equal(reads.length, 3, `read once per list: ${reads.join(' | ')}`);
    // The cluster behind b is replaced: seen once the cached ID has aged.
    clusters.b = '33';
    clock += 29_000;
    assert.equal(await other(etcd('http://b:2379')), undefined, 'still trusted');
    clock += 2_000;
    assert.match(String(await other(etcd('http://b:2379'))), /is cluster 33/);
  });

  it('refuses a call whose cluster cannot be asked, and asks again next time', async () => {
    let up = false;
    const other = datastoreMatcher(etcd('http://a:2379'), async () => {
      if (!up) throw new Error('no etcd endpoint answered');
      return '11';
    });
    assert.match(String(await other(etcd('http://a:2379'))), /could not be identified/);
    up = true;
    assert.equal(await other(etcd('http://a:2379')), undefined);
  });
});
