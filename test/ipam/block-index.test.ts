// The block index is a hint: blocks written or deleted by a writer that does not keep it
// (Calico itself) must neither be handed out twice nor stay lost. Also: Windows reserved
// ordinals, the host lock file, invalid blocks in `check`, borrowed listings, orphan blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAll } from '../../src/datastore/api.js';
import { affinityKey, blockKey, handleKey } from '../../src/datastore/keys.js';
import { newBlock } from '../../src/ipam/block.js';
import { INDEX_PREFIX } from '../../src/ipam/block-index.js';
import { createIpam } from '../../src/ipam/index.js';
import { encodeAffinity, encodeBlock } from '../../src/ipam/model.js';
import { parseCidr } from '../../src/net/index.js';
import {
  openTempStore,
  putNode,
  putPool,
  scanInvariants,
  testEnvironment,
  v4Request,
} from '../helpers/ipam-fixtures.js';

test('a block created behind the index is skipped (and marked); one deleted behind it is found again', async () => {
  const t = await openTempStore();
  try {
    await putPool(t.store, 'p', { cidr: '192.168.0.0/24' });
    await putNode(t.store, 'node1');
    const ipam = createIpam(t.store, testEnvironment());
    await ipam.autoAssign(v4Request('node1', 1)); // builds the index; node1 owns 192.168.0.128/26
    // "Calico" on another host creates 192.168.0.192/26 (node1's next CIDR) without the index.
    const foreign = newBlock(parseCidr('192.168.0.192/26'), {
      sequenceNumber: 1n,
      affinity: 'host:other',
    });
    await t.store.put(blockKey(4, '192.168.0.192/26'), encodeBlock(foreign));
    await t.store.put(affinityKey('other', 4, '192.168.0.192/26'), encodeAffinity('confirmed'));
    const r = await ipam.autoAssign(v4Request('node1', 64));
    assert.equal(r.ipv4.ips.length, 64);
    assert.ok(
      r.ipv4.ips.every((ip) => !/^192\.168\.0\.(19[2-9]|2\d\d)\//.test(ip)),
      'never inside the foreign block',
    );
    assert.ok(
      r.ipv4.ips.some((ip) => ip.startsWith('192.168.0.0/') || ip.startsWith('192.168.0.1/')),
    );
    // "Calico" deletes the foreign block without clearing its bit: once the pool looks full,
    // the range is rebuilt from the blocks and the CIDR is claimed again.
    await t.store.delete(blockKey(4, '192.168.0.192/26'));
    await t.store.delete(affinityKey('other', 4, '192.168.0.192/26'));
    const more = await ipam.autoAssign(v4Request('node1', 63 + 64 + 64));
    assert.equal(more.ipv4.ips.length, 191);
    assert.ok(more.ipv4.ips.some((ip) => ip.startsWith('192.168.0.192/')));
    assert.deepEqual(await scanInvariants(t.store), []);
    assert.ok((await listAll(t.store, INDEX_PREFIX)).length > 0);
  } finally {
    await t.close();
  }
});

test('Windows host-reserved ordinals: first 3 and last 1 of new blocks, no handle object', async () => {
  const t = await openTempStore();
  try {
    await putPool(t.store, 'p', { cidr: '10.40.0.0/24' });
    await putNode(t.store, 'win');
    const ipam = createIpam(t.store, testEnvironment());
    const r = await ipam.autoAssign(
      v4Request('win', 61, {
        handleId: 'h',
        hostReservedAttrIPv4s: { startOfBlock: 3, endOfBlock: 1 },
      }),
    );
    assert.equal(r.ipv4.ips.length, 61);
    const lastOctets = r.ipv4.ips.map((ip) => Number(ip.split('.')[3]!.split('/')[0]) % 64);
    assert.equal(Math.min(...lastOctets), 3);
    assert.equal(Math.max(...lastOctets), 62);
    assert.equal(await t.store.get(handleKey('windows-reserved-ipam-handle')), undefined);
    assert.deepEqual(await scanInvariants(t.store), []);
    assert.deepEqual((await ipam.check()).missingHandles, []);
  } finally {
    await t.close();
  }
});

test('lockDir: same-host allocators across engines serialise on a lock file; a dead holder is broken', async () => {
  const t = await openTempStore();
  const lockDir = mkdtempSync(join(tmpdir(), 'cidrpool-locks-'));
  try {
    await putPool(t.store, 'p', { cidr: '10.41.0.0/24' });
    await putNode(t.store, 'n');
    writeFileSync(join(lockDir, 'n.lock'), '2147483646'); // a pid that does not exist
    const engines = [0, 1, 2].map(() => createIpam(t.store, { lockDir }));
    const results = await Promise.all(
      engines.flatMap((e, i) =>
        [0, 1, 2, 3].map((j) => e.autoAssign(v4Request('n', 2, { handleId: `h${i}-${j}` }))),
      ),
    );
    const ips = results.flatMap((r) => r.ipv4.ips);
    assert.equal(ips.length, 24);
    assert.equal(new Set(ips).size, 24);
    assert.equal(existsSync(join(lockDir, 'n.lock')), false);
    assert.deepEqual(readdirSync(lockDir), []);
    assert.deepEqual(await scanInvariants(t.store), []);
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
    await t.close();
  }
});

test('check reports invalid blocks; utilisation puts blocks outside every pool in the orphan group', async () => {
  const t = await openTempStore();
  try {
    await putPool(t.store, 'p', { cidr: '10.42.0.0/24' });
    await putNode(t.store, 'a');
    await putNode(t.store, 'b');
    const ipam = createIpam(t.store, testEnvironment());
    await ipam.autoAssign(v4Request('a', 1));
    const broken = {
      ...newBlock(parseCidr('10.99.0.0/30'), { sequenceNumber: 1n }),
      unallocated: [0, 1, 1],
    };
    await t.store.put(blockKey(4, '10.99.0.0/30'), encodeBlock(broken));
    const report = await ipam.check();
    assert.deepEqual(
      report.invalidBlocks.map((b) => b.cidr),
      ['10.99.0.0/30'],
    );
    assert.ok(report.invalidBlocks[0]!.problems.some((p) => p.includes('appears twice')));
    const u = await ipam.getUtilization();
    assert.deepEqual(
      u.map((g) => [g.name, g.cidr, g.blocks.length]),
      [
        ['p', '10.42.0.0/24', 1],
        [undefined, '0.0.0.0/0', 1],
      ],
    );
    assert.equal(u[0]!.inUse, 1n);
    assert.equal(u[0]!.available, 255n);
    await t.store.delete(blockKey(4, '10.99.0.0/30'));
    // Borrowing: b takes addresses from a's block once no block is free.
    await ipam.autoAssign(v4Request('a', 63 + 64 * 3));
    const b = await ipam.autoAssign(v4Request('b', 1, { allowPartial: true }));
    assert.equal(b.ipv4.ips.length, 0);
    await ipam.releaseIps([{ address: '10.42.0.7' }, { address: '10.42.0.129' }]);
    const b2 = await ipam.autoAssign(v4Request('b', 2, { handleId: 'hb' }));
    assert.equal(b2.ipv4.ips.length, 2);
    const borrowed = await ipam.listBorrowed();
    assert.deepEqual(
      borrowed.borrowed.map((x) => [x.borrowingNode, x.blockOwner]),
      [
        ['b', 'a'],
        ['b', 'a'],
      ],
    );
    assert.equal(borrowed.withoutNode, 0);
    assert.equal(await ipam.getAssignmentAttributes('10.42.0.7').then((i) => i?.attrs.node), 'b');
  } finally {
    await t.close();
  }
});
