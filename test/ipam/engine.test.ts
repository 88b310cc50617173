// The IPAM engine against the real embedded store: ipam-core.md §7 conformance cases and the
// behaviours of issue 4 (claim order, limit, borrowing, reservations, release paths, check).
import assert from 'node:assert/strict';
import { affinityKey, blockKey, handleKey, hostAffinityPrefix } from '../../src/datastore/keys.js';
import { listAll } from '../../src/datastore/api.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { createIpam, shortfallMessage } from '../../src/ipam/index.js';
import { decodeBlock } from '../../src/ipam/model.js';
import {
  allocatedAddresses,
  putNode,
  putPool,
  putReservation,
  putWorkloadEndpoint,
  scanInvariants,
  defineOnBothStores,
  v4Request,
} from '../helpers/ipam-fixtures.js';

const both = defineOnBothStores();

const code = (c: string) => (e: unknown) => isCidrpoolError(e) && e.code === c;

both(
  'claims the host-seeded block first, writes Calico JSON for the handle and affinity',
  async (t, _env, ipam) => {
    await putPool(t.store, 'default-ipv4-ippool', { cidr: '10.244.0.0/16' });
    await putNode(t.store, 'node1');
    await putNode(t.store, 'worker-1');
    const r = await ipam.autoAssign(v4Request('node1', 3, { handleId: 'k8s-pod-network.c1' }));
    assert.deepEqual(r.ipv4.ips, ['10.244.166.128/26', '10.244.166.129/26', '10.244.166.130/26']);
    assert.equal(shortfallMessage(r.ipv4), undefined);
    const h = await t.store.get(handleKey('k8s-pod-network.c1'));
    assert.equal(h?.value, '{"block":{"10.244.166.128/26":3},"deleted":false}');
    const a = await t.store.get(affinityKey('node1', 4, '10.244.166.128/26'));
    assert.equal(a?.value, '{"state":"confirmed","deleted":false}');
    const b = decodeBlock((await t.store.get(blockKey(4, '10.244.166.128/26')))!.value);
    assert.equal(b.affinity, 'host:node1');
    assert.ok(b.affinityClaimTime);
    const w = await ipam.autoAssign(v4Request('worker-1', 1));
    assert.deepEqual(w.ipv4.ips, ['10.244.226.64/26'], 'worker-1 starts at block 905');
    // Filling the affine block moves on to start+1.
    const more = await ipam.autoAssign(v4Request('node1', 62));
    assert.equal(more.ipv4.ips.at(-1), '10.244.166.129/26'.replace('129', '192'));
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.c1'), [
      '10.244.166.128',
      '10.244.166.129',
      '10.244.166.130',
    ]);
  },
);

both('a small pool: search order 2, 3, 0, 1 (192.168.0.0/24, node1)', async (t, _env, ipam) => {
  await putPool(t.store, 'p', { cidr: '192.168.0.0/24' });
  await putNode(t.store, 'node1');
  const r = await ipam.autoAssign(v4Request('node1', 64 * 4));
  const blocks = [
    ...new Set(
      r.ipv4.ips.map(
        (ip) =>
          ip.split('.').slice(0, 3).join('.') +
          '.' +
          (Number(ip.split('.')[3]!.split('/')[0]) & 192),
      ),
    ),
  ];
  assert.deepEqual(blocks, ['192.168.0.128', '192.168.0.192', '192.168.0.0', '192.168.0.64']);
  const none = await ipam.autoAssign(v4Request('node1', 1, { allowPartial: true }));
  assert.equal(none.ipv4.ips.length, 0);
  assert.match(
    shortfallMessage(none.ipv4)!,
    /^Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[192\.168\.0\.0\/24\]$/,
  );
});

both(
  '§7.7 block limit: 20 full affine blocks give IPAM_BLOCK_LIMIT and no borrowing',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.0.0.0/24', blockSize: 30 });
    await putNode(t.store, 'a');
    await putNode(t.store, 'b');
    const b = await ipam.autoAssign(v4Request('b', 1)); // b's block has room to borrow from
    assert.equal(b.ipv4.ips.length, 1);
    const a = await ipam.autoAssign(v4Request('a', 80));
    assert.equal(a.ipv4.ips.length, 80);
    await assert.rejects(ipam.autoAssign(v4Request('a', 1)), (e: unknown) => {
      assert.ok(isCidrpoolError(e, 'IPAM_BLOCK_LIMIT'));
      assert.equal(
        e.message,
        'Need to allocate an IPAM block but could not - limit of 20 blocks reached for this node',
      );
      return true;
    });
    // A request that fills the last block and then hits the limit keeps nothing (issue 15).
    const freed = a.ipv4.ips.slice(0, 2).map((ip) => ip.split('/')[0]!);
    await ipam.releaseIps(freed.map((address) => ({ address })));
    await assert.rejects(ipam.autoAssign(v4Request('a', 5, { handleId: 'h5' })), (e: unknown) =>
      isCidrpoolError(e, 'IPAM_BLOCK_LIMIT'),
    );
    for (const ip of freed) assert.equal(await ipam.getAssignmentAttributes(ip), undefined);
    assert.equal(await t.store.get(handleKey('h5')), undefined);
    const per = await listAll(t.store, hostAffinityPrefix('a', 4));
    assert.equal(per.length, 20);
  },
);

both(
  '§7.8 claim race: two hosts want the only block; one wins, the other borrows, no pending left',
  async (t, env, _ipam) => {
    await putPool(t.store, 'p', { cidr: '10.1.0.0/26' });
    await putNode(t.store, 'a');
    await putNode(t.store, 'b');
    const ia = createIpam(t.store, env);
    const ib = createIpam(t.store, env);
    const [ra, rb] = await Promise.all([
      ia.autoAssign(v4Request('a', 1, { handleId: 'ha' })),
      ib.autoAssign(v4Request('b', 1, { handleId: 'hb' })),
    ]);
    assert.equal(ra.ipv4.ips.length + rb.ipv4.ips.length, 2);
    assert.notEqual(ra.ipv4.ips[0], rb.ipv4.ips[0]);
    const affs = [
      ...(await listAll(t.store, hostAffinityPrefix('a', 4))),
      ...(await listAll(t.store, hostAffinityPrefix('b', 4))),
    ];
    assert.equal(affs.length, 1, 'exactly one host owns the block');
    const borrowed = await ia.listBorrowed();
    assert.equal(borrowed.borrowed.length, 1);
  },
);

both(
  '§7.9 releaseAffinity: a non-empty block stays unaffine; an empty block is deleted',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.2.0.0/24' });
    await putNode(t.store, 'n');
    const r = await ipam.autoAssign(v4Request('n', 65, { handleId: 'h' }));
    const blocks = [...new Set(r.ipv4.ips.map((ip) => ip.split('/')[0]!))];
    assert.equal(blocks.length, 65);
    await assert.rejects(
      ipam.releaseAffinity('10.2.0.0/24', 'n', true),
      code('IPAM_BLOCK_NOT_EMPTY'),
    );
    await ipam.releaseHostAffinities('n', false);
    assert.equal((await listAll(t.store, hostAffinityPrefix('n', 4))).length, 0);
    const stored = await listAll(t.store, '/calico/ipam/v2/assignment/');
    assert.equal(stored.length, 2);
    for (const kv of stored) assert.equal(decodeBlock(kv.value).affinity, null);
    // Releasing every address deletes the now empty, unaffine blocks.
    assert.equal((await ipam.releaseByHandle('h')).length, 65);
    assert.equal((await listAll(t.store, '/calico/ipam/v2/assignment/')).length, 0);
    assert.equal(await t.store.get(handleKey('h')), undefined);
    // An empty affine block is deleted by releasing its affinity.
    await ipam.autoAssign(v4Request('n', 1, { handleId: 'g' }));
    await ipam.releaseByHandle('g');
    assert.equal((await listAll(t.store, '/calico/ipam/v2/assignment/')).length, 1);
    await ipam.releaseAffinity('10.2.0.0/24', 'n', true);
    assert.equal((await listAll(t.store, '/calico/ipam/v2/assignment/')).length, 0);
  },
);

both(
  'strictAffinity: no borrowing, an explicit message; reclaim of an empty block after a minute',
  async (t, env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.3.0.0/26' });
    await putNode(t.store, 'a');
    await putNode(t.store, 'b');
    await ipam.setConfig({
      strictAffinity: true,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      ipCooldownSeconds: 0,
    });
    await ipam.autoAssign(v4Request('a', 1, { handleId: 'ha' }));
    const b1 = await ipam.autoAssign(v4Request('b', 1, { allowPartial: true }));
    assert.equal(
      shortfallMessage(b1.ipv4),
      'Assigned 0 out of 1 requested IPv4 addresses; No more free affine blocks and strict affinity enabled',
    );
    await ipam.releaseByHandle('ha'); // a's block is now empty but still affine
    assert.equal(
      (await ipam.autoAssign(v4Request('b', 1, { allowPartial: true }))).ipv4.ips.length,
      0,
      'claimed less than a minute ago',
    );
    env.advance(61_000);
    const b2 = await ipam.autoAssign(v4Request('b', 1));
    assert.deepEqual(b2.ipv4.ips, ['10.3.0.0/26']);
    assert.equal((await listAll(t.store, hostAffinityPrefix('a', 4))).length, 0);
  },
);

both('IPReservations are never auto-assigned; AssignIP ignores them', async (t, _env, ipam) => {
  await putPool(t.store, 'p', { cidr: '10.4.0.0/26' });
  await putNode(t.store, 'n');
  await putReservation(t.store, 'r', ['10.4.0.0/28', '10.4.0.40']);
  const r = await ipam.autoAssign(v4Request('n', 64, { allowPartial: true }));
  assert.equal(r.ipv4.ips.length, 47);
  assert.ok(
    r.ipv4.ips.every(
      (ip) => !ip.startsWith('10.4.0.40/') && Number(ip.split('.')[3]!.split('/')[0]) >= 16,
    ),
  );
  assert.match(shortfallMessage(r.ipv4)!, /^Assigned 47 out of 64 requested IPv4 addresses/);
  await ipam.assignIp({ ip: '10.4.0.1', hostname: 'n' });
  const u = await ipam.getUtilization();
  assert.equal(u[0]!.inUse, 48n);
  assert.equal(u[0]!.reserved, 17n);
  assert.equal(u[0]!.available, 0n);
  assert.deepEqual(
    await scanInvariants(t.store, {
      reserved: ['10.4.0.2/31', '10.4.0.4/30', '10.4.0.8/29', '10.4.0.40'],
    }),
    [],
  );
});

both(
  'pool choice: name order, selectors, Manual pools, requested names/CIDRs, errors',
  async (t, _env, ipam) => {
    await putPool(t.store, 'a-manual', { cidr: '10.5.0.0/24', assignmentMode: 'Manual' });
    await putPool(t.store, 'b-zone', { cidr: '10.6.0.0/24', nodeSelector: "zone == 'east'" });
    await putPool(t.store, 'c-ns', { cidr: '10.7.0.0/24', namespaceSelector: "team == 'x'" });
    await putPool(t.store, 'd-off', { cidr: '10.8.0.0/24', disabled: true });
    await putPool(t.store, 'v6', { cidr: 'fd00::/120', blockSize: 122 });
    await putNode(t.store, 'east', { zone: 'east' });
    await putNode(t.store, 'west', { zone: 'west' });
    const ip = async (host: string, extra: object = {}) =>
      (await ipam.autoAssign(v4Request(host, 1, extra))).ipv4.ips[0] ?? '';
    assert.match(await ip('east'), /^10\.6\./);
    await assert.rejects(
      ipam.autoAssign(v4Request('west', 1)),
      /^CidrpoolError: no configured Calico pools for node west$/,
    );
    assert.match(await ip('west', { namespace: { name: 'n', labels: { team: 'x' } } }), /^10\.7\./);
    assert.match(await ip('west', { ipv4Pools: ['a-manual'] }), /^10\.5\./);
    assert.match(await ip('west', { ipv4Pools: ['10.5.0.7/24'] }), /^10\.5\./);
    await assert.rejects(
      ipam.autoAssign(v4Request('west', 1, { ipv4Pools: ['d-off'] })),
      /^CidrpoolError: the given pool \(d-off\) does not exist, or is not enabled$/,
    );
    await assert.rejects(
      ipam.autoAssign(v4Request('west', 1, { ipv4Pools: ['10.9.0.0/24'] })),
      /the given pool \(10\.9\.0\.0\/24\) does not exist, or is not enabled/,
    );
    await assert.rejects(
      ipam.autoAssign(v4Request('west', 1, { ipv4Pools: ['fd00::/120'] })),
      /provided IPv4 IPPools list contains one or more IPv6 IPPools/,
    );
    await assert.rejects(
      ipam.autoAssign(v4Request('ghost', 1)),
      /^CidrpoolError: resource does not exist: Node\(ghost\)$/,
    );
    await assert.rejects(
      ipam.autoAssign(v4Request('east', 1, { intendedUse: 'LoadBalancer', ipv4Pools: ['b-zone'] })),
      /^CidrpoolError: cannot find a qualified ippool, no pools match the required use \(LoadBalancer\)/,
    );
    await assert.rejects(
      ipam.autoAssign({ ...v4Request('east', 1), intendedUse: '' as 'Workload' }),
      code('IPAM_USE_REQUIRED'),
    );
  },
);

both(
  'a node leaving a pool: its empty affine block is released lazily on the next allocation',
  async (t, _env, ipam) => {
    await putPool(t.store, 'a', { cidr: '10.10.0.0/24', nodeSelector: "zone == 'east'" });
    await putPool(t.store, 'b', { cidr: '10.11.0.0/24' });
    await putNode(t.store, 'n', { zone: 'east' });
    await ipam.autoAssign(v4Request('n', 1, { handleId: 'h' }));
    await ipam.releaseByHandle('h');
    await putNode(t.store, 'n', { zone: 'west' });
    const r = await ipam.autoAssign(v4Request('n', 1));
    assert.match(r.ipv4.ips[0]!, /^10\.11\./);
    const affs = await listAll(t.store, hostAffinityPrefix('n', 4));
    assert.deepEqual(
      affs.map((kv) => kv.key.split('/').at(-1)),
      [
        r.ipv4.ips[0]!.replace(/\.\d+\/26$/, '.0-26').replace(
          /\.(\d+)-26$/,
          (_m, x) => `.${Number(x) & 192}-26`,
        ),
      ],
    );
  },
);

both(
  'assignIp: claims the block for the host, refuses duplicates, pools and uses',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.12.0.0/24', allowedUses: ['Workload'] });
    await putNode(t.store, 'n');
    await ipam.assignIp({ ip: '10.12.0.77', hostname: 'n', handleId: 'h', attrs: { node: 'n' } });
    assert.equal((await listAll(t.store, hostAffinityPrefix('n', 4))).length, 1);
    await assert.rejects(
      ipam.assignIp({ ip: '10.12.0.77', hostname: 'n' }),
      code('IPAM_ALREADY_ASSIGNED'),
    );
    await assert.rejects(
      ipam.assignIp({ ip: '10.99.0.1', hostname: 'n' }),
      /^CidrpoolError: The provided IP address is not in a configured pool$/,
    );
    await assert.rejects(
      ipam.assignIp({ ip: '10.12.0.78', hostname: 'n', intendedUse: 'Tunnel' }),
      /^CidrpoolError: IP address 10\.12\.0\.78 is in IP pool "p", which is not allowed for use "Tunnel" \(allowedUses: \[Workload\]\)$/,
    );
    const info = await ipam.getAssignmentAttributes('10.12.0.77');
    assert.equal(info?.handleId, 'h');
    assert.equal(info?.blockCidr, '10.12.0.64/26');
  },
);

both(
  'releaseIps: handle and sequence-number guards fail only their block; others succeed',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.13.0.0/24' });
    await putNode(t.store, 'n');
    await ipam.assignIp({ ip: '10.13.0.1', hostname: 'n', handleId: 'h1' });
    await ipam.assignIp({ ip: '10.13.0.65', hostname: 'n', handleId: 'h2' });
    const seq = (await ipam.getAssignmentAttributes('10.13.0.65'))!.sequenceNumber;
    const r = await ipam.releaseIps([
      { address: '10.13.0.1', handleId: 'wrong' },
      { address: '10.13.0.65', handleId: 'h2', sequenceNumber: seq },
      { address: '10.13.0.200' },
      { address: '10.99.0.1' },
    ]);
    assert.deepEqual(r.released, ['10.13.0.65']);
    assert.deepEqual(r.unallocated.sort(), ['10.13.0.200', '10.99.0.1']);
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0]!.blockCidr, '10.13.0.0/26');
    assert.ok(isCidrpoolError(r.failures[0]!.error, 'IPAM_BAD_HANDLE'));
    await assert.rejects(ipam.releaseByHandle('nope'), code('IPAM_HANDLE_NOT_FOUND'));
    await assert.rejects(ipam.releaseIps([{ address: '' }]), /No IP address specified in options/);
  },
);

both(
  'cooldown: a released address stays held until ipCooldownSeconds pass',
  async (t, env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.14.0.0/26' });
    await putNode(t.store, 'n');
    await ipam.setConfig({
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      ipCooldownSeconds: 60,
    });
    await ipam.assignIp({ ip: '10.14.0.5', hostname: 'n', handleId: 'h' });
    assert.deepEqual(await ipam.releaseByHandle('h'), ['10.14.0.5']);
    assert.equal((await ipam.getAssignmentAttributes('10.14.0.5'))?.coolingDown, true);
    await assert.rejects(
      ipam.assignIp({ ip: '10.14.0.5', hostname: 'n' }),
      code('IPAM_ALREADY_ASSIGNED'),
    );
    assert.deepEqual((await ipam.releaseIps([{ address: '10.14.0.5' }])).unallocated, [
      '10.14.0.5',
    ]);
    env.advance(61_000);
    await ipam.assignIp({ ip: '10.14.0.5', hostname: 'n' });
  },
);

both(
  'a short or failed request keeps nothing, in either family (issue 15)',
  async (t, _env, ipam) => {
    await putPool(t.store, 'small', { cidr: '10.9.0.0/29', blockSize: 30 });
    await putNode(t.store, 'n');
    await assert.rejects(
      ipam.autoAssign(v4Request('n', 10, { handleId: 'short' })),
      (e: unknown) =>
        isCidrpoolError(e, 'IPAM_SHORTFALL') &&
        e.message.startsWith('Assigned 8 out of 10 requested IPv4 addresses'),
    );
    assert.equal(await t.store.get(handleKey('short')), undefined);
    const [pool] = await ipam.getUtilization();
    assert.equal(pool!.inUse, 0n);
    // IPv4 is met, then IPv6 fails (no IPv6 pool): the IPv4 address is released too.
    await assert.rejects(
      ipam.autoAssign({ ...v4Request('n', 2), num6: 1, handleId: 'dual-fail' }),
      (e: unknown) => isCidrpoolError(e, 'IPAM_NO_QUALIFIED_POOL'),
    );
    assert.equal(await t.store.get(handleKey('dual-fail')), undefined);
    assert.equal((await ipam.getUtilization())[0]!.inUse, 0n);
    // The whole pool is still there for a request that fits.
    assert.equal((await ipam.autoAssign(v4Request('n', 8))).ipv4.ips.length, 8);
  },
);

both('IPv6: a /64 pool with /122 blocks, dual stack in one call', async (t, _env, ipam) => {
  await putPool(t.store, 'v4', { cidr: '10.244.0.0/16' });
  await putPool(t.store, 'v6', { cidr: 'fd00:10:244::/64', blockSize: 122 });
  await putNode(t.store, 'node1');
  const r = await ipam.autoAssign({ ...v4Request('node1', 1), num6: 2, handleId: 'dual' });
  assert.deepEqual(r.ipv4.ips, ['10.244.166.128/26']);
  assert.deepEqual(r.ipv6.ips, [
    'fd00:10:244:0:c11:b42f:f17e:a680/122',
    'fd00:10:244:0:c11:b42f:f17e:a681/122',
  ]);
  const more = await ipam.autoAssign({ ...v4Request('node1', 0), num6: 64 });
  assert.equal(more.ipv6.ips.at(-1), 'fd00:10:244:0:c11:b42f:f17e:a6c1/122');
  const h = await t.store.get(handleKey('dual'));
  assert.equal(
    h?.value,
    '{"block":{"10.244.166.128/26":1,"fd00:10:244:0:c11:b42f:f17e:a680/122":2},"deleted":false}',
  );
  const u = await ipam.getUtilization(['v6']);
  assert.equal(u[0]!.capacity, 2n ** 64n);
  assert.equal(u[0]!.inUse, 66n);
  assert.equal((await ipam.releaseByHandle('dual')).length, 3);
});

both(
  'check: leaked IPs, unallocated workload IPs, leaked and missing handles',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.15.0.0/24' });
    await putNode(t.store, 'n', {}, { ipv4VXLANTunnelAddr: '10.15.0.200' });
    await ipam.assignIp({
      ip: '10.15.0.1',
      hostname: 'n',
      handleId: 'w1',
      attrs: { node: 'n', pod: 'a', namespace: 'default' },
    });
    await ipam.assignIp({
      ip: '10.15.0.2',
      hostname: 'n',
      handleId: 'w2',
      attrs: { node: 'm', pod: 'b', namespace: 'default' },
    });
    await putWorkloadEndpoint(t.store, 'default', 'n-k8s-a-eth0', ['10.15.0.1/32']);
    await putWorkloadEndpoint(t.store, 'default', 'n-k8s-c-eth0', ['10.15.0.3/32', '10.16.0.1/32']);
    await t.store.put(handleKey('stale'), '{"block":{"10.15.0.0/26":1},"deleted":false}');
    const report = await ipam.check();
    assert.equal(report.allocationCount, 2);
    assert.deepEqual(report.activePools, ['10.15.0.0/24']);
    assert.deepEqual(
      report.leakedIps.map((a) => a.ip),
      ['10.15.0.2'],
    );
    assert.equal(report.leakedIps[0]!.borrowed, true);
    assert.deepEqual(report.noAllocation.map((a) => a.ip).sort(), ['10.15.0.200', '10.15.0.3']);
    assert.deepEqual(
      report.notInPool.map((a) => `${a.ip} ${a.owner}`),
      ['10.16.0.1 Workload(default/n-k8s-c-eth0)'],
    );
    assert.deepEqual(
      report.leakedHandles.map((h) => h.id),
      ['stale'],
    );
    assert.equal(report.problemCount, 1 + 2 + 1 + 1);
    assert.deepEqual(report.topNodes, [
      { node: 'm', allocations: 1 },
      { node: 'n', allocations: 1 },
    ]);
    await t.store.delete(handleKey('stale'));
    await t.store.delete(handleKey('w2'));
    assert.deepEqual((await ipam.check()).missingHandles, ['w2']);
    await t.store.put(handleKey('w2'), '{"block":{"10.15.0.0/26":1},"deleted":false}');
    assert.equal((await allocatedAddresses(t.store)).size, 2);
  },
);

both(
  'releasePoolAffinities keeps allocations; setConfig enforces Calico cross-field rules',
  async (t, _env, ipam) => {
    await putPool(t.store, 'p', { cidr: '10.17.0.0/24' });
    await putNode(t.store, 'n');
    await ipam.autoAssign(v4Request('n', 3, { handleId: 'h' }));
    await ipam.releasePoolAffinities('10.17.0.0/24');
    assert.equal((await listAll(t.store, hostAffinityPrefix('n', 4))).length, 0);
    assert.equal((await ipam.ipsByHandle('h')).length, 3);
    await assert.rejects(
      ipam.setConfig({
        strictAffinity: false,
        autoAllocateBlocks: false,
        maxBlocksPerHost: 0,
        ipCooldownSeconds: 0,
      }),
      /Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time/,
    );
    await assert.rejects(
      ipam.setConfig({
        strictAffinity: false,
        autoAllocateBlocks: true,
        maxBlocksPerHost: 3,
        ipCooldownSeconds: 0,
      }),
      /MaxBlocksPerHost requires StrictAffinity to be enabled/,
    );
    assert.deepEqual(await ipam.getConfig(), {
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      ipCooldownSeconds: 0,
    });
  },
);
