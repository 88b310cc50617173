// AutoAssign with reuseHeld (a retried CNI ADD): the handle's addresses come back when they are
// exactly what is asked for, and nothing more is assigned; anything else assigns as usual.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIpam } from '../../src/ipam/index.js';
import {
  openTempStore,
  putNode,
  putPool,
  scanInvariants,
  testEnvironment,
  v4Request,
} from '../helpers/ipam-fixtures.js';

test('reuseHeld returns the handle addresses of a retry and assigns only when they differ', async () => {
  const t = await openTempStore();
  try {
    await putPool(t.store, 'p4', { cidr: '10.0.0.0/24' });
    await putPool(t.store, 'p6', { cidr: 'fd00::/120' });
    await putNode(t.store, 'node1');
    const ipam = createIpam(t.store, testEnvironment());
    const dual = { ...v4Request('node1', 1), num6: 1, handleId: 'net.ctr1', reuseHeld: true };
    const first = await ipam.autoAssign(dual);
    const again = await ipam.autoAssign(dual);
    assert.deepEqual(again, first);
    assert.match(first.ipv4.ips[0]!, /^10\.0\.0\.\d+\/26$/);
    assert.deepEqual((await ipam.ipsByHandle('net.ctr1')).length, 2);
    // Without the flag, Calico's AutoAssign: a second address under the handle.
    const calico = await ipam.autoAssign({ ...dual, reuseHeld: false, num6: 0 });
    assert.notEqual(calico.ipv4.ips[0], first.ipv4.ips[0]);
    // Now the handle holds two IPv4 addresses: a retry asking for one of each assigns anew.
    const mismatch = await ipam.autoAssign({ ...dual, handleId: 'net.ctr1' });
    assert.equal((await ipam.ipsByHandle('net.ctr1')).length, 5);
    assert.equal(mismatch.ipv4.ips.length, 1);
    // An IPv6-only retry is answered from the IPv6 call's read.
    const v6 = { ...v4Request('node1', 0), num6: 1, handleId: 'net.ctr2', reuseHeld: true };
    assert.deepEqual(await ipam.autoAssign(v6), await ipam.autoAssign(v6));
    assert.deepEqual(await scanInvariants(t.store), []);
  } finally {
    await t.close();
  }
});
