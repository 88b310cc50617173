// IPPool delete (ipam-core.md §1.4) with the real IPAM engine on the real embedded store:
// affinities go, empty blocks are deleted, blocks in use become unaffine and keep their addresses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAll } from '../../src/datastore/api.js';
import { affinityTypePrefix, blockKey, blocksPrefix } from '../../src/datastore/keys.js';
import { createIpam } from '../../src/ipam/index.js';
import { formatCidr, networkOf, parseIp } from '../../src/net/index.js';
import type { Ipam } from '../../src/ipam/types.js';
import { API_VERSION_V3, type IPPool, type Node } from '../../src/resources/types.js';
import { openHarness, pool, type Harness } from './support.js';

const node = (name: string): Node => ({
  apiVersion: API_VERSION_V3,
  kind: 'Node',
  metadata: { name },
  spec: {},
});

describe('IPPool delete with the IPAM engine', () => {
  let h: Harness;
  let ipam: Ipam;
  before(async () => {
    h = await openHarness((store) => (ipam = createIpam(store, { random: () => 0 })));
  });
  after(async () => h.close());

  it('releases affinities, keeps addresses in use, deletes the pool', async () => {
    await h.client.create(pool('p1', { cidr: '10.0.0.0/24' }));
    await h.client.create(node('node1'));
    await h.client.create(node('node2'));
    const kept = await ipam.autoAssign({
      num4: 1,
      num6: 0,
      handleId: 'h1',
      hostname: 'node1',
      intendedUse: 'Workload',
    });
    const freed = await ipam.autoAssign({
      num4: 1,
      num6: 0,
      handleId: 'h2',
      hostname: 'node2',
      intendedUse: 'Workload',
    });
    assert.equal(kept.ipv4.ips.length, 1);
    assert.equal(freed.ipv4.ips.length, 1);
    await ipam.releaseByHandle('h2');
    assert.equal((await listAll(h.store, affinityTypePrefix('host'))).length, 2);

    const deleted = (await h.client.delete('IPPool', 'p1')) as IPPool;
    assert.equal(deleted.spec.disabled, true);
    assert.equal(await h.client.find('IPPool', 'p1'), undefined);
    assert.deepEqual(await listAll(h.store, affinityTypePrefix('host')), []);

    // The block in use stays, unaffine, with its address; the empty one is gone.
    const blocks = await listAll(h.store, blocksPrefix(4));
    assert.equal(blocks.length, 1);
    const ip = kept.ipv4.ips[0]!.split('/')[0]!;
    assert.equal(blocks[0]?.key, blockKey(4, formatCidr(networkOf(parseIp(ip), 26))));
    assert.equal(JSON.parse(blocks[0]!.value).affinity ?? null, null);
    assert.deepEqual(await ipam.ipsByHandle('h1'), [ip]);
  });
});
