// Many ADDs at once on one node (what a kubelet does when a deployment scales up): every pod
// gets its own address, the per-node lock leaves no stale lock file, and DELs release them all.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import {
  datastoreKeys,
  inUseCount,
  mapConcurrently,
  runPlugin,
  seedStore,
  withStore,
} from './support.js';

describe('cidrpool-ipam: parallel ADDs on one node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cni-parallel-'));
  const ds: DatastoreConfig = { type: 'embedded', dataDir: dir };
  before(() =>
    withStore(ds, (store) =>
      seedStore(store, {
        pools: [{ name: 'pool-p', cidr: '10.90.0.0/16' }],
        nodes: [{ name: 'node-p' }],
      }),
    ),
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  const config = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'calico',
    nodename: 'node-p',
    ...datastoreKeys(ds),
    ipam: { type: 'cidrpool-ipam' },
  };

  it('30 ADDs, 10 at a time, get 30 different addresses; 30 DELs release them', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `par-${i}`);
    const adds = await mapConcurrently(ids, 10, (containerId) =>
      runPlugin({
        command: 'ADD',
        containerId,
        args: `K8S_POD_NAMESPACE=par;K8S_POD_NAME=${containerId}`,
        config,
      }),
    );
    for (const add of adds) assert.equal(add.code, 0, add.stdout + add.stderr);
    const addresses = adds.map((a) => (a.json?.ips as { address: string }[])[0]!.address);
    assert.equal(new Set(addresses).size, 30, 'duplicate address handed out');
    assert.equal(await inUseCount(ds), 30n);

    const dels = await mapConcurrently(ids, 10, (containerId) =>
      runPlugin({
        command: 'DEL',
        containerId,
        args: `K8S_POD_NAMESPACE=par;K8S_POD_NAME=${containerId}`,
        config,
      }),
    );
    for (const del of dels) assert.equal(del.code, 0, del.stdout + del.stderr);
    assert.equal(await inUseCount(ds), 0n);
    const locks = join(dir, 'locks');
    assert.deepEqual(
      existsSync(locks) ? readdirSync(locks) : [],
      [],
      'a lock file was left behind',
    );
  });
});
