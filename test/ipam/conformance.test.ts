// ipam-core.md §7 conformance cases through the engine, on both stores, checked on the stored
// etcd JSON (block.test.ts checks the same rules on the pure block functions): §7.1-7.4 and §7.8,
// §7.11 for a block Calico wrote, the affine block order of §3.4 and ReleaseAffinity's walk (§4.5).
import assert from 'node:assert/strict';
import type { Datastore } from '../../src/datastore/api.js';
import { listAll } from '../../src/datastore/api.js';
import { affinityKey, blockKey, handleKey, hostAffinityPrefix } from '../../src/datastore/keys.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { shortfallMessage } from '../../src/ipam/index.js';
import { assignFromBlock, newBlock } from '../../src/ipam/block.js';
import { decodeBlock, encodeAffinity, encodeBlock, type Block } from '../../src/ipam/model.js';
import { parseCidr } from '../../src/net/index.js';
import {
  defineOnBothStores,
  deletePool,
  putNode,
  putPool,
  putReservation,
  v4Request,
} from '../helpers/ipam-fixtures.js';

const both = defineOnBothStores();

const config = (ipCooldownSeconds: number) => ({
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
  ipCooldownSeconds,
});

async function stored(store: Datastore, cidr: string): Promise<{ block: Block; text: string }> {
  const kv = await store.get(blockKey(cidr.includes(':') ? 6 : 4, cidr));
  assert.ok(kv, `block ${cidr} is stored`);
  return { block: decodeBlock(kv.value), text: kv.value };
}

const affinityCidrs = async (store: Datastore, host: string) =>
  (await listAll(store, hostAffinityPrefix(host, 4))).map((kv) => kv.key.split('/').at(-1));

both(
  '§7.1/§7.2 a claimed block: ordinals 0-2 share one attribute; sequence numbers as Calico',
  async (t, env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.20.0.0/26' });
    await putNode(t.store, 'n');
    const r = await ipam.autoAssign(v4Request('n', 3, { handleId: 'h' }));
    assert.deepEqual(r.ipv4.ips, ['10.20.0.0/26', '10.20.0.1/26', '10.20.0.2/26']);
    const { block, text } = await stored(t.store, '10.20.0.0/26');
    assert.deepEqual(block.allocations, [0, 0, 0, ...new Array<null>(61).fill(null)]);
    assert.deepEqual(
      block.unallocated,
      Array.from({ length: 61 }, (_, i) => i + 3),
    );
    assert.deepEqual(block.attributes, [{ handleId: 'h', secondary: { node: 'n' } }]);
    // Created with the clock in nanoseconds (a Create adds nothing), then one Update (+1); each
    // ordinal records the number as read before that update.
    const created = block.sequenceNumber - 1n;
    assert.equal(created / 1_000_000n, BigInt(env.now()), 'a nanosecond timestamp');
    assert.deepEqual(block.sequenceNumberForAllocation, { 0: created, 1: created, 2: created });
    assert.ok(block.sequenceNumber > 2n ** 53n);
    assert.ok(text.includes(`"sequenceNumber":${block.sequenceNumber},`), 'written exactly');
    assert.ok(text.includes(`"sequenceNumberForAllocation":{"0":${created},"1":${created},`));
    // The next allocation in the block: the ordinal records the number before this write.
    await ipam.autoAssign(v4Request('n', 1, { handleId: 'h' }));
    const next = (await stored(t.store, '10.20.0.0/26')).block;
    assert.equal(next.sequenceNumber, block.sequenceNumber + 1n);
    assert.equal(next.sequenceNumberForAllocation['3'], block.sequenceNumber);
    assert.equal(
      (await t.store.get(handleKey('h')))?.value,
      '{"block":{"10.20.0.0/26":4},"deleted":false}',
    );
  },
);

both(
  '§7.3 release with cooldown 0: the ordinal goes to the tail, attributes are compacted',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.21.0.0/26' });
    await putNode(t.store, 'n');
    await ipam.autoAssign(v4Request('n', 1, { handleId: 'a' }));
    await ipam.autoAssign(v4Request('n', 1, { handleId: 'b' }));
    const before = (await stored(t.store, '10.21.0.0/26')).block;
    assert.equal(before.attributes.length, 2);
    const r = await ipam.releaseIps([{ address: '10.21.0.0' }]);
    assert.deepEqual(r.released, ['10.21.0.0']);
    const { block } = await stored(t.store, '10.21.0.0/26');
    assert.equal(block.unallocated.at(-1), 0);
    assert.equal(block.unallocated.length, 63);
    assert.deepEqual(block.attributes, [{ handleId: 'b', secondary: { node: 'n' } }]);
    assert.equal(block.allocations[0], null);
    assert.equal(block.allocations[1], 0, 'renumbered after the compaction');
    assert.equal(block.sequenceNumberForAllocation['0'], undefined);
    assert.equal(block.sequenceNumber, before.sequenceNumber + 1n);
    assert.equal(await t.store.get(handleKey('a')), undefined, 'an empty handle is deleted');
    // A freed ordinal is used again only after every never-used one.
    const again = await ipam.autoAssign(v4Request('n', 63));
    assert.equal(again.ipv4.ips.at(-1), '10.21.0.0/26');
  },
);

both(
  '§7.3 release with cooldown 60 s: held by a {releasedAt} attribute, block not empty, freed after',
  async (t, env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.22.0.0/26' });
    await putNode(t.store, 'n');
    await ipam.setConfig(config(60));
    await ipam.autoAssign(v4Request('n', 1, { handleId: 'a' }));
    const before = (await stored(t.store, '10.22.0.0/26')).block;
    await ipam.releaseIps([{ address: '10.22.0.0' }]);
    const { block } = await stored(t.store, '10.22.0.0/26');
    assert.equal(block.allocations[0], 0);
    assert.deepEqual(block.attributes, [{ releasedAt: '2026-01-01T00:00:00Z' }]);
    assert.ok(!block.unallocated.includes(0));
    // ReleaseIPs records the per-ordinal number for an ordinal entering cooldown (HEAD).
    assert.equal(block.sequenceNumberForAllocation['0'], before.sequenceNumber);
    await assert.rejects(ipam.releaseAffinity('10.22.0.0/26', 'n', true), (e: unknown) =>
      isCidrpoolError(e, 'IPAM_BLOCK_NOT_EMPTY'),
    );
    assert.equal((await ipam.getUtilization(['p']))[0]!.inUse, 1n, 'counted as in use');
    const r = await ipam.autoAssign(v4Request('n', 1));
    assert.deepEqual(r.ipv4.ips, ['10.22.0.1/26']);
    env.advance(61_000);
    // The next write of the block frees it (to the tail of the queue).
    await ipam.autoAssign(v4Request('n', 1));
    const after = (await stored(t.store, '10.22.0.0/26')).block;
    assert.equal(after.allocations[0], null);
    assert.equal(after.unallocated.at(-1), 0);
    assert.equal(after.sequenceNumberForAllocation['0'], undefined);
    assert.deepEqual(after.attributes, [{ secondary: { node: 'n' } }]);
  },
);

both(
  '§7.4 a sequence-number mismatch fails its whole block and writes nothing; other blocks go on',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.23.0.0/24' });
    await putNode(t.store, 'n');
    await ipam.assignIp({ ip: '10.23.0.1', hostname: 'n', handleId: 'h' });
    await ipam.assignIp({ ip: '10.23.0.2', hostname: 'n', handleId: 'h' });
    await ipam.assignIp({ ip: '10.23.0.65', hostname: 'n', handleId: 'h' });
    const seqOf = async (ip: string) => (await ipam.getAssignmentAttributes(ip))!.sequenceNumber;
    const blockA = await t.store.get(blockKey(4, '10.23.0.0/26'));
    const r = await ipam.releaseIps([
      { address: '10.23.0.1', sequenceNumber: await seqOf('10.23.0.1') },
      { address: '10.23.0.2', sequenceNumber: (await seqOf('10.23.0.2')) + 1n },
      { address: '10.23.0.65', sequenceNumber: await seqOf('10.23.0.65') },
    ]);
    assert.deepEqual(r.released, ['10.23.0.65']);
    assert.deepEqual(r.unallocated, []);
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0]!.blockCidr, '10.23.0.0/26');
    assert.ok(isCidrpoolError(r.failures[0]!.error, 'IPAM_BAD_SEQUENCE_NUMBER'));
    const blockAfter = await t.store.get(blockKey(4, '10.23.0.0/26'));
    assert.equal(blockAfter?.revision, blockA?.revision, 'block A not written');
    assert.equal(blockAfter?.value, blockA?.value);
    assert.deepEqual((await ipam.ipsByHandle('h')).sort(), ['10.23.0.1', '10.23.0.2']);
    assert.equal(
      (await t.store.get(handleKey('h')))?.value,
      '{"block":{"10.23.0.0/26":2},"deleted":false}',
    );
    // A free ordinal with a non-zero number is a bad sequence number, not "unallocated" (§2.6).
    const free = await ipam.releaseIps([{ address: '10.23.0.9', sequenceNumber: 7n }]);
    assert.deepEqual(free.unallocated, []);
    assert.ok(isCidrpoolError(free.failures[0]?.error, 'IPAM_BAD_SEQUENCE_NUMBER'));
    // ... and with 0 (the stored value of a free ordinal) it is reported unallocated.
    const zero = await ipam.releaseIps([{ address: '10.23.0.9', sequenceNumber: 0n }]);
    assert.deepEqual(zero.unallocated, ['10.23.0.9']);
    assert.deepEqual(zero.failures, []);
  },
);

both(
  '§7.8 claim race lost to another writer: no pending affinity left, the next CIDR is claimed',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.244.0.0/16' });
    await putNode(t.store, 'node1');
    await putNode(t.store, 'worker-1');
    await ipam.autoAssign(v4Request('worker-1', 1)); // the block index now exists
    // Another host (Calico, which does not keep our index) wins node1's start CIDR first.
    const foreign = encodeBlock(
      newBlock(parseCidr('10.244.166.128/26'), { sequenceNumber: 7n, affinity: 'host:other' }),
    );
    await t.store.put(blockKey(4, '10.244.166.128/26'), foreign);
    await t.store.put(affinityKey('other', 4, '10.244.166.128/26'), encodeAffinity('confirmed'));
    const r = await ipam.autoAssign(v4Request('node1', 2, { handleId: 'h' }));
    assert.deepEqual(r.ipv4.ips, ['10.244.166.192/26', '10.244.166.193/26']);
    assert.deepEqual(await affinityCidrs(t.store, 'node1'), ['10.244.166.192-26']);
    assert.equal(
      (await t.store.get(blockKey(4, '10.244.166.128/26')))?.value,
      foreign,
      'the winner is untouched',
    );
    assert.equal(
      (await t.store.get(affinityKey('node1', 4, '10.244.166.192/26')))?.value,
      '{"state":"confirmed","deleted":false}',
    );
  },
);

both(
  '§7.11 a block Calico wrote keeps hostAffinity, strictAffinity and unknown fields when we write it',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.24.0.0/26' });
    await putNode(t.store, 'n');
    const text =
      '{"cidr":"10.24.0.0/26","affinity":"host:n","affinity_claim_time":"2026-01-01T00:00:00Z",' +
      `"allocations":[0${',null'.repeat(63)}],"unallocated":[${Array.from({ length: 63 }, (_, i) => i + 1).join(',')}],` +
      '"attributes":[{"handle_id":"k8s-pod-network.c0","secondary":{"node":"n","pod":"a"}}],' +
      '"sequenceNumber":1780000000123456789,"sequenceNumberForAllocation":{"0":1780000000123456788},' +
      '"deleted":false,"hostAffinity":"n","strictAffinity":false,"futureField":{"x":[1,2]}}';
    await t.store.put(blockKey(4, '10.24.0.0/26'), text);
    await t.store.put(affinityKey('n', 4, '10.24.0.0/26'), '');
    await t.store.put(
      handleKey('k8s-pod-network.c0'),
      '{"block":{"10.24.0.0/26":1},"deleted":false}',
    );
    const r = await ipam.autoAssign(v4Request('n', 1, { handleId: 'k8s-pod-network.c1' }));
    assert.deepEqual(r.ipv4.ips, ['10.24.0.1/26'], 'the legacy empty affinity counts as confirmed');
    const after = (await stored(t.store, '10.24.0.0/26')).text;
    const expected = text
      .replace(`"allocations":[0,null,`, `"allocations":[0,1,`)
      .replace(`"unallocated":[1,2,`, `"unallocated":[2,`)
      .replace('}}],', '}},{"handle_id":"k8s-pod-network.c1","secondary":{"node":"n"}}],')
      .replace('"sequenceNumber":1780000000123456789', '"sequenceNumber":1780000000123456790')
      .replace('{"0":1780000000123456788}', '{"0":1780000000123456788,"1":1780000000123456789}');
    assert.equal(after, expected);
  },
);

both(
  '§3.4 affine blocks are tried in key text order (10.0.1.0, 10.0.10.0, then 10.0.2.0)',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.25.0.0/16', blockSize: 24 });
    await putNode(t.store, 'n');
    for (const ip of ['10.25.2.1', '10.25.10.1', '10.25.1.1'])
      await ipam.assignIp({ ip, hostname: 'n' });
    const first = await ipam.autoAssign(v4Request('n', 1));
    assert.deepEqual(first.ipv4.ips, ['10.25.1.0/24']);
    const more = await ipam.autoAssign(v4Request('n', 255));
    assert.deepEqual(more.ipv4.ips.slice(-2), ['10.25.1.255/24', '10.25.10.0/24']);
    const owned = await affinityCidrs(t.store, 'n');
    assert.deepEqual(owned, ['10.25.1.0-24', '10.25.10.0-24', '10.25.2.0-24'], 'no new claim');
  },
);

both(
  '§4.5 ReleaseAffinity walks the blocks in address order and stops at the first non-empty one',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.26.0.0/16', blockSize: 24 });
    await putNode(t.store, 'n');
    await ipam.assignIp({ ip: '10.26.2.1', hostname: 'n', handleId: 'a' });
    await ipam.assignIp({ ip: '10.26.10.1', hostname: 'n', handleId: 'b' });
    await ipam.assignIp({ ip: '10.26.20.1', hostname: 'n', handleId: 'c' });
    await ipam.releaseByHandle('a');
    await ipam.releaseByHandle('c');
    await assert.rejects(ipam.releaseAffinity('10.26.0.0/16', 'n', true), (e: unknown) => {
      assert.ok(isCidrpoolError(e, 'IPAM_BLOCK_NOT_EMPTY'));
      assert.equal(e.message, "block '10.26.10.0/24' is not empty");
      return true;
    });
    // 10.26.2.0 (before the failure) was released and, empty, deleted; 10.26.20.0 (after) was not.
    assert.deepEqual(await affinityCidrs(t.store, 'n'), ['10.26.10.0-24', '10.26.20.0-24']);
    assert.equal(await t.store.get(blockKey(4, '10.26.2.0/24')), undefined);
    assert.ok(await t.store.get(blockKey(4, '10.26.20.0/24')));
    for (const call of [
      () => ipam.releaseAffinity('10.26.0.0/16', '', false),
      () => ipam.releaseHostAffinities('', false),
    ])
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(isCidrpoolError(e, 'IPAM_INVALID_ARGUMENT'));
        assert.equal(e.message, 'Hostname must be specified to release block affinity');
        return true;
      });
    // Without mustBeEmpty the non-empty block stays, unaffine, with its address.
    await ipam.releaseAffinity('10.26.0.0/16', 'n', false);
    assert.deepEqual(await affinityCidrs(t.store, 'n'), []);
    assert.equal((await stored(t.store, '10.26.10.0/24')).block.affinity, null);
    assert.deepEqual(await ipam.ipsByHandle('b'), ['10.26.10.1']);
  },
);

both(
  '§3.1/§3.2 Windows reserved ordinals: /30 pools excluded, the shortfall names the reserved handle',
  async (t, _env, ipam) => {
    await putPool(t.store, 'a-small', { cidr: '10.27.0.0/24', blockSize: 30 });
    await putPool(t.store, 'b-win', { cidr: '10.27.1.0/29', blockSize: 29 });
    await putNode(t.store, 'win');
    const windows = { hostReservedAttrIPv4s: { startOfBlock: 3, endOfBlock: 1 } };
    // 3 + 1 reserved: maxPrefixLen = 32 - bitLength(4) = 29, so the /30 pool is passed over.
    const r = await ipam.autoAssign(
      v4Request('win', 5, { handleId: 'h', allowPartial: true, ...windows }),
    );
    assert.deepEqual(r.ipv4.ips, ['10.27.1.3/29', '10.27.1.4/29', '10.27.1.5/29', '10.27.1.6/29']);
    assert.equal(r.ipv4.hostReservedHandle, 'windows-reserved-ipam-handle');
    assert.equal(
      shortfallMessage(r.ipv4),
      'Assigned 4 out of 5 requested IPv4 addresses; No IPs available in pools: [10.27.1.0/29]; ' +
        'HostReservedAttr: windows-reserved-ipam-handle',
    );
    // Without the reservation there is no such suffix, and the /30 pool is used.
    const plain = await ipam.autoAssign(v4Request('win', 1));
    assert.match(plain.ipv4.ips[0]!, /^10\.27\.0\.\d+\/30$/);
    assert.equal(plain.ipv4.hostReservedHandle, undefined);
    await assert.rejects(
      ipam.autoAssign(v4Request('win', 1, { ipv4Pools: ['a-small'], ...windows })),
      /^CidrpoolError: the given pool \(a-small\) does not exist, or is not enabled$/,
    );
  },
);

both(
  '§4.2 an address outside every pool is found by listing the blocks; the emptied unaffine block goes',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.28.0.0/24' });
    await putNode(t.store, 'n');
    const r = await ipam.autoAssign(v4Request('n', 2, { handleId: 'h' }));
    const [ip1, ip2] = r.ipv4.ips.map((ip) => ip.split('/')[0]!);
    const cidr = `${ip1!.replace(/\.\d+$/, '')}.${Number(ip1!.split('.')[3]) & 192}/26`;
    await ipam.releasePoolAffinities('10.28.0.0/24');
    await deletePool(t.store, 'p');
    assert.equal((await ipam.getAssignmentAttributes(ip1!))?.handleId, 'h');
    assert.deepEqual((await ipam.releaseIps([{ address: ip1!, handleId: 'h' }])).released, [ip1]);
    assert.equal((await stored(t.store, cidr)).block.affinity, null, 'kept: one address left');
    assert.deepEqual((await ipam.releaseIps([{ address: ip2! }])).released, [ip2]);
    assert.equal(await t.store.get(blockKey(4, cidr)), undefined, 'empty and unaffine: deleted');
    assert.equal(await t.store.get(handleKey('h')), undefined);
  },
);

both(
  '§4.3/§4.4 cooling-down addresses have no handle: IPsByHandle and ReleaseByHandle skip them',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.29.0.0/26' });
    await putNode(t.store, 'n');
    await ipam.setConfig(config(60));
    await ipam.autoAssign(v4Request('n', 2, { handleId: 'g' }));
    const s1 = (await stored(t.store, '10.29.0.0/26')).block;
    await ipam.releaseIps([{ address: '10.29.0.0' }]);
    const s2 = (await stored(t.store, '10.29.0.0/26')).block;
    assert.deepEqual(await ipam.ipsByHandle('g'), ['10.29.0.1']);
    assert.equal(
      (await t.store.get(handleKey('g')))?.value,
      '{"block":{"10.29.0.0/26":1},"deleted":false}',
    );
    assert.deepEqual(await ipam.releaseByHandle('g'), ['10.29.0.1']);
    assert.equal(await t.store.get(handleKey('g')), undefined);
    await assert.rejects(ipam.ipsByHandle('g'), (e: unknown) =>
      isCidrpoolError(e, 'IPAM_HANDLE_NOT_FOUND'),
    );
    // Releasing a cooling-down address again reports it unallocated and writes nothing.
    const before = await t.store.get(blockKey(4, '10.29.0.0/26'));
    const again = await ipam.releaseIps([{ address: '10.29.0.0' }, { address: '10.29.0.1' }]);
    assert.deepEqual(again.unallocated, ['10.29.0.0', '10.29.0.1']);
    assert.equal((await t.store.get(blockKey(4, '10.29.0.0/26')))?.revision, before?.revision);
    const { block } = await stored(t.store, '10.29.0.0/26');
    assert.equal(block.attributes.length, 2, 'one {releasedAt} attribute per release call');
    assert.ok(block.attributes.every((a) => a.releasedAt !== undefined && !a.handleId));
    // ReleaseIPs records the block's number as read for an ordinal entering cooldown (§2.6);
    // ReleaseByHandle leaves the number of the allocation.
    assert.equal(block.sequenceNumberForAllocation['0'], s1.sequenceNumber);
    assert.equal(block.sequenceNumberForAllocation['1'], s1.sequenceNumberForAllocation['1']);
    assert.notEqual(block.sequenceNumberForAllocation['1'], s2.sequenceNumber);
  },
);

both(
  '§3.7 reclaim: an empty block without a claim time is reclaimed at once; an unaffine one is not',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.30.0.0/25' });
    await putNode(t.store, 'n');
    await putNode(t.store, 'other');
    await ipam.setConfig({ ...config(0), strictAffinity: true });
    // Written by Calico: other's empty block (claim time missing) and an empty unaffine block.
    const put = (cidr: string, affinity: string | null) =>
      t.store.put(
        blockKey(4, cidr),
        encodeBlock(newBlock(parseCidr(cidr), { sequenceNumber: 5n, affinity })),
      );
    await put('10.30.0.0/26', 'host:other');
    await t.store.put(affinityKey('other', 4, '10.30.0.0/26'), encodeAffinity('confirmed'));
    await put('10.30.0.64/26', null);
    const r = await ipam.autoAssign(v4Request('n', 65, { allowPartial: true }));
    assert.equal(r.ipv4.ips.length, 64);
    assert.ok(r.ipv4.ips.every((ip) => /^10\.30\.0\.([0-9]|[1-5][0-9]|6[0-3])\/26$/.test(ip)));
    assert.equal(
      shortfallMessage(r.ipv4),
      'Assigned 64 out of 65 requested IPv4 addresses; No more free affine blocks and strict affinity enabled',
    );
    assert.deepEqual(await affinityCidrs(t.store, 'n'), ['10.30.0.0-26']);
    assert.deepEqual(await affinityCidrs(t.store, 'other'), []);
    const reclaimed = (await stored(t.store, '10.30.0.0/26')).block;
    assert.equal(reclaimed.affinity, 'host:n');
    assert.ok(reclaimed.sequenceNumber > 5n, 'a new block, with a new time-based number');
    assert.equal((await stored(t.store, '10.30.0.64/26')).block.affinity, null);
  },
);

both(
  '§3.6 affine blocks: a claim cut short is finished, a stale affinity dropped, pendingDeletion re-confirmed',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.31.0.0/24' }); // n starts its search at 10.31.0.0/26
    await putNode(t.store, 'n');
    await putNode(t.store, 'other');
    // A claim that crashed after writing the pending affinity: no block.
    await t.store.put(affinityKey('n', 4, '10.31.0.128/26'), encodeAffinity('pending'));
    // Our affinity for a block that another host owns.
    const foreign = encodeBlock(
      newBlock(parseCidr('10.31.0.192/26'), { sequenceNumber: 3n, affinity: 'host:other' }),
    );
    await t.store.put(blockKey(4, '10.31.0.192/26'), foreign);
    await t.store.put(affinityKey('n', 4, '10.31.0.192/26'), encodeAffinity('confirmed'));
    await t.store.put(affinityKey('other', 4, '10.31.0.192/26'), encodeAffinity('confirmed'));
    // Our block with one address, its affinity left in pendingDeletion.
    const ours = assignFromBlock(
      newBlock(parseCidr('10.31.0.64/26'), { sequenceNumber: 1000n, affinity: 'host:n' }),
      { num: 1, handleId: 'old', affinity: 'host:n', affinityCheck: false },
    ).block;
    await t.store.put(blockKey(4, '10.31.0.64/26'), encodeBlock(ours));
    await t.store.put(handleKey('old'), '{"block":{"10.31.0.64/26":1},"deleted":false}');
    await t.store.put(affinityKey('n', 4, '10.31.0.64/26'), encodeAffinity('pendingDeletion'));

    // Affine blocks in key order: .128 (claimed now), .192 (not ours: dropped), .64 (re-confirmed).
    const r = await ipam.autoAssign(v4Request('n', 65));
    assert.equal(r.ipv4.ips.length, 65);
    assert.equal(r.ipv4.ips[0], '10.31.0.128/26');
    assert.equal(r.ipv4.ips.at(-1), '10.31.0.65/26');
    assert.deepEqual(await affinityCidrs(t.store, 'n'), ['10.31.0.128-26', '10.31.0.64-26']);
    for (const cidr of ['10.31.0.128/26', '10.31.0.64/26'])
      assert.equal(
        (await t.store.get(affinityKey('n', 4, cidr)))?.value,
        '{"state":"confirmed","deleted":false}',
      );
    assert.equal((await stored(t.store, '10.31.0.128/26')).block.affinity, 'host:n');
    assert.equal((await t.store.get(blockKey(4, '10.31.0.192/26')))?.value, foreign);
    assert.ok(await t.store.get(affinityKey('other', 4, '10.31.0.192/26')));
    // Re-confirming rewrote the block once (+1), then the assignment wrote it (+1).
    const b = (await stored(t.store, '10.31.0.64/26')).block;
    assert.equal(b.sequenceNumber, 1002n);
    assert.equal(b.sequenceNumberForAllocation['1'], 1001n);
  },
);

both(
  '§4.5 after a release, an empty block of a pool that no longer selects its node loses its affinity',
  async (t, _env, ipam) => {
    await putPool(t.store, 'a', { cidr: '10.32.0.0/24', nodeSelector: "zone == 'east'" });
    await putPool(t.store, 'b', { cidr: '10.33.0.0/24', namespaceSelector: "team == 'x'" });
    await putNode(t.store, 'n', { zone: 'east' });
    const ns = { name: 'ns', labels: { team: 'x' } };
    const one = async (handleId: string, extra: object = {}) =>
      (await ipam.autoAssign(v4Request('n', 1, { handleId, ...extra }))).ipv4.ips[0]!.split(
        '/',
      )[0]!;
    const ip1 = await one('h1');
    const ip2 = await one('h2');
    await one('g', { ipv4Pools: ['b'], namespace: ns });
    assert.equal((await affinityCidrs(t.store, 'n')).length, 2);
    const blockA = (await affinityCidrs(t.store, 'n')).find((c) => c!.startsWith('10.32.'))!;
    await putNode(t.store, 'n', { zone: 'west' });
    await putPool(t.store, 'b', { cidr: '10.33.0.0/24', namespaceSelector: "team == 'y'" });
    // Not empty yet: the affinity stays.
    assert.deepEqual(await ipam.releaseByHandle('h1'), [ip1]);
    assert.ok((await affinityCidrs(t.store, 'n')).includes(blockA));
    // Empty now: released, and the empty block deleted.
    assert.deepEqual((await ipam.releaseIps([{ address: ip2 }])).released, [ip2]);
    assert.ok(!(await affinityCidrs(t.store, 'n')).includes(blockA));
    assert.deepEqual(await listAll(t.store, '/calico/ipam/v2/assignment/ipv4/block/10.32.'), []);
    // A namespaceSelector change does not release anything here (ipam-core.md §6 item 14).
    await ipam.releaseByHandle('g');
    assert.equal((await affinityCidrs(t.store, 'n')).length, 1);
    assert.match((await affinityCidrs(t.store, 'n'))[0]!, /^10\.33\./);
  },
);

both(
  '§7.5 reservations through the engine: an unmasked CIDR reserves its network; reserved ordinals keep their place',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.34.0.0/26' });
    await putNode(t.store, 'n');
    await putReservation(t.store, 'r', ['10.34.0.5/30', ' ', 'not-a-cidr']);
    const r = await ipam.autoAssign(v4Request('n', 8));
    assert.deepEqual(
      r.ipv4.ips.map((ip) => Number(ip.split('.')[3]!.split('/')[0])),
      [0, 1, 2, 3, 8, 9, 10, 11],
    );
    const { block } = await stored(t.store, '10.34.0.0/26');
    assert.deepEqual(block.unallocated.slice(0, 6), [4, 5, 6, 7, 12, 13]);
    const u = (await ipam.getUtilization(['p']))[0]!;
    assert.equal(u.reserved, 4n);
    assert.equal(u.blocks[0]!.available, 64n - 8n - 4n);
    // AssignIP ignores reservations.
    await ipam.assignIp({ ip: '10.34.0.6', hostname: 'n' });
    assert.deepEqual(
      (await stored(t.store, '10.34.0.0/26')).block.unallocated.slice(0, 4),
      [4, 5, 7, 12],
    );
    // A block the reservations cover entirely is never claimed.
    await putReservation(t.store, 'all', ['10.34.0.0/26']);
    await putPool(t.store, 'q', { cidr: '10.35.0.0/26' });
    const more = await ipam.autoAssign(v4Request('n', 1));
    assert.deepEqual(more.ipv4.ips, ['10.35.0.0/26']);
  },
);

both(
  '§4.2 a release handle is cleaned, and an empty one means "no handle check", as in Calico',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.36.0.0/26' });
    await putNode(t.store, 'n');
    await ipam.autoAssign(v4Request('n', 3, { handleId: 'h' }));
    const r = await ipam.releaseIps([
      { address: '10.36.0.0', handleId: '' },
      { address: '10.36.0.1', handleId: 'h\rjunk' },
    ]);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.released.sort(), ['10.36.0.0', '10.36.0.1']);
    const bad = await ipam.releaseIps([{ address: '10.36.0.2', handleId: '\rjunk-h' }]);
    assert.deepEqual(bad.released, ['10.36.0.2'], 'cleaned to empty: not checked');
    assert.equal(await t.store.get(handleKey('h')), undefined);
  },
);

both(
  '§3.10 borrowing walks the blocks from the host-seeded start (node1 in a /24: 2, 3, 0, 1)',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '192.168.0.0/24' });
    for (const h of ['a', 'b', 'c', 'd', 'node1']) await putNode(t.store, h);
    // Every block CIDR is claimed by another host and holds one address.
    const owners: [string, string][] = [
      ['a', '192.168.0.1'],
      ['b', '192.168.0.65'],
      ['c', '192.168.0.129'],
      ['d', '192.168.0.193'],
    ];
    for (const [host, ip] of owners) await ipam.assignIp({ ip, hostname: host });
    const r = await ipam.autoAssign(v4Request('node1', 64, { handleId: 'x' }));
    assert.equal(r.ipv4.ips.length, 64);
    assert.equal(r.ipv4.ips[0], '192.168.0.128/26', 'start block (index 2) first');
    assert.equal(r.ipv4.ips[62], '192.168.0.191/26');
    assert.equal(r.ipv4.ips[63], '192.168.0.192/26', 'then index 3');
    assert.deepEqual(await affinityCidrs(t.store, 'node1'), [], 'borrowing claims nothing');
    const { borrowed } = await ipam.listBorrowed();
    assert.equal(borrowed.filter((b) => b.borrowingNode === 'node1').length, 64);
    assert.deepEqual([...new Set(borrowed.map((b) => `${b.blockOwner}`))].sort(), ['c', 'd']);
  },
);
