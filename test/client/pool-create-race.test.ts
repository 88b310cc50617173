// Concurrent creates of overlapping pools: libcalico's read-then-write check lets several pass;
// cidrpool's guarded transaction lets exactly one through and reports the others as overlaps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import { createIpam } from '../../src/ipam/index.js';
import { openHarness, pool, type Harness } from './support.js';

describe('IPPool create race', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness((store) => createIpam(store));
  });
  after(async () => h.close());

  it('of eight concurrent creates of one CIDR under different names, exactly one succeeds', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        h.client.create(pool(`race-${i}`, { cidr: '10.9.0.0/16' })),
      ),
    );
    const created = outcomes.filter((o) => o.status === 'fulfilled');
    assert.equal(created.length, 1, 'exactly one pool is created');
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        assert.ok(isCidrpoolError(outcome.reason, 'CLIENT_VALIDATION'), String(outcome.reason));
        assert.match(String(outcome.reason.message), /overlaps with IPPool\(race-\d\)/);
      }
    }
    const { items } = await h.client.list('IPPool');
    assert.equal(items.length, 1);
  });
});
