// An IPAMConfiguration written through the client is what the allocator uses: the v3 resource and
// /calico/ipam/v2/config are written in one transaction (Calico's etcd mode leaves them unlinked).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IPAM_CONFIG_KEY } from '../../src/datastore/keys.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { createIpam } from '../../src/ipam/index.js';
import { DEFAULT_IPAM_CONFIG, type Ipam } from '../../src/ipam/types.js';
import { API_VERSION_V3, type IPAMConfiguration } from '../../src/resources/types.js';
import { openHarness, type Harness } from './support.js';

const config = (spec: IPAMConfiguration['spec'], name = 'default'): IPAMConfiguration => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPAMConfiguration',
  metadata: { name },
  spec,
});

describe('IPAMConfiguration through the client', () => {
  let h: Harness;
  let ipam: Ipam;
  before(async () => {
    h = await openHarness((store) => (ipam = createIpam(store)));
  });
  after(async () => h.close());

  it('create, then apply, change what the engine reads', async () => {
    await h.client.create(
      config({ strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 4 }),
    );
    assert.deepEqual(await ipam.getConfig(), {
      ...DEFAULT_IPAM_CONFIG,
      strictAffinity: true,
      maxBlocksPerHost: 4,
    });
    await h.client.apply(
      config({ strictAffinity: false, autoAllocateBlocks: true, ipCooldownSeconds: 30 }),
    );
    assert.deepEqual(await ipam.getConfig(), { ...DEFAULT_IPAM_CONFIG, ipCooldownSeconds: 30 });
  });

  it('an invalid configuration writes neither key', async () => {
    const before = await h.store.get(IPAM_CONFIG_KEY);
    await assert.rejects(
      () =>
        h.client.apply(
          config({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 3 }),
        ),
      (err) => isCidrpoolError(err, 'CLIENT_VALIDATION'),
    );
    assert.deepEqual(await h.store.get(IPAM_CONFIG_KEY), before);
  });

  it('delete returns the engine to the defaults', async () => {
    await h.client.delete('IPAMConfiguration', 'default');
    assert.equal(await h.store.get(IPAM_CONFIG_KEY), undefined);
    assert.deepEqual(await ipam.getConfig(), DEFAULT_IPAM_CONFIG);
  });
});
