// The desired kernel state of spec/dataplane.md §8.2, computed without a kernel: every
// expectation the end-to-end suite checks in namespaces is first checked here on the model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vtepMac, type KernelRoute } from '../../src/dataplane/index.js';
import {
  blackhole,
  blockJson,
  directRoute,
  vxlanRoute,
  blockKey,
  newModel,
  nodeJson,
  nodeKey,
  poolJson,
  poolKey,
  put,
  seedTopology,
} from './fixtures.js';

function routesOf(model: ReturnType<typeof newModel>): Record<string, KernelRoute> {
  model.takeChanges();
  return Object.fromEntries(model.desiredRoutes());
}

describe('VTEP MAC (§2)', () => {
  it('is 0x66 and the first five bytes of SHA-1 of the node name', () => {
    assert.equal(vtepMac('n1', 4), '66:40:b3:ea:b6:3f');
    assert.equal(vtepMac('n3', 4), '66:26:c2:ce:28:d0');
  });
  it('hashes `<name>-v6` for IPv6 and honours an override', () => {
    assert.notEqual(vtepMac('n1', 6), vtepMac('n1', 4));
    assert.equal(vtepMac('n1', 4, '66:AA:BB:CC:DD:EE'), '66:aa:bb:cc:dd:ee');
  });
});

describe('T1 device', () => {
  it('wants vxlan.calico with VNI 4096, port 4789, local N_L on eth0, MTU 1450, T_L/32', () => {
    const model = newModel('n1');
    seedTopology(model);
    assert.deepEqual(model.vxlanDevice(4), {
      state: 'present',
      device: {
        name: 'vxlan.calico',
        family: 4,
        vni: 4096,
        port: 4789,
        local: '192.168.10.11',
        parent: 'eth0',
        mac: '66:40:b3:ea:b6:3f',
        mtu: 1450,
        address: '10.244.1.0/32',
      },
    });
    assert.deepEqual(model.vxlanDevice(6), { state: 'absent' });
  });
  it('uses the configured VNI, port and MTU', () => {
    const model = newModel('n1', { vxlanVni: 7, vxlanPort: 8472, vxlanMtu: 1400 });
    seedTopology(model);
    const wish = model.vxlanDevice(4);
    assert.equal(wish.state, 'present');
    if (wish.state === 'present') {
      assert.deepEqual([wish.device.vni, wish.device.port, wish.device.mtu], [7, 8472, 1400]);
    }
  });
  it('waits (leaves the device alone) until the node has a tunnel address', () => {
    const model = newModel('n1');
    seedTopology(model);
    put(model, nodeKey('n1'), nodeJson('n1', { bgp: { ipv4Address: '192.168.10.11/24' } }));
    assert.equal(model.vxlanDevice(4).state, 'unknown');
  });
  it('is absent when no pool has VXLAN', () => {
    const model = newModel('n1');
    seedTopology(model, 'Never');
    assert.deepEqual(model.vxlanDevice(4), { state: 'absent' });
  });
});

describe('pod MTU (the MTU file for the CNI plugin)', () => {
  it('is the smallest enabled tunnel MTU, else the host MTU (felix determinePodMTU)', () => {
    const model = newModel('n1');
    seedTopology(model, 'Never');
    assert.equal(model.podMtu(), 1500, 'no tunnel: the host MTU');
    seedTopology(model, 'Always');
    assert.equal(model.podMtu(), 1450, 'VXLAN: host - 50');
    put(
      model,
      poolKey('pool-6'),
      poolJson('pool-6', { cidr: 'fd00:244::/112', vxlanMode: 'Always' }),
    );
    assert.equal(model.podMtu(), 1430, 'VXLAN v6 as well: host - 70, the smaller');
    put(model, poolKey('pool-6'), undefined);
    put(
      model,
      poolKey('pool-ipip'),
      poolJson('pool-ipip', { cidr: '10.245.0.0/16', ipipMode: 'Always' }),
    );
    assert.equal(model.podMtu(), 1450, 'IPIP (1480) beside VXLAN (1450)');
    assert.equal(newModelWith({ vxlanMtu: 9000, ipipMtu: 1400 }).podMtu(), 1400, 'configured MTUs');
  });
});

/** The §8.1 model with a VXLAN pool and an IPIP pool, and `settings`. */
function newModelWith(settings: Parameters<typeof newModel>[1]) {
  const model = newModel('n1', settings);
  seedTopology(model);
  put(
    model,
    poolKey('pool-ipip'),
    poolJson('pool-ipip', { cidr: '10.245.0.0/16', ipipMode: 'Always' }),
  );
  return model;
}

describe('T2 FDB and neighbours', () => {
  it('has a permanent entry per remote VTEP and none for itself; a deleted node loses both', () => {
    const model = newModel('n1');
    seedTopology(model);
    assert.deepEqual(model.vtepEntries('n2', 4), {
      fdb: { mac: vtepMac('n2', 4), dst: '192.168.10.12' },
      neighbour: { ip: '10.244.2.0', mac: vtepMac('n2', 4) },
    });
    assert.deepEqual(model.vtepEntries('n3', 4)?.fdb, {
      mac: '66:26:c2:ce:28:d0',
      dst: '192.168.20.13',
    });
    assert.equal(model.vtepEntries('n1', 4), undefined);
    put(model, nodeKey('n3'), undefined);
    assert.equal(model.vtepEntries('n3', 4), undefined);
  });
  it('needs spec.bgp: a node without it has no VTEP', () => {
    const model = newModel('n1');
    seedTopology(model);
    put(model, nodeKey('n2'), nodeJson('n2', { ipv4VXLANTunnelAddr: '10.244.2.0' }));
    assert.equal(model.vtepOf('n2', 4), undefined);
  });
});

describe('T3 Always routes', () => {
  it('routes remote blocks via their VTEP and blackholes the local block', () => {
    const model = newModel('n1');
    seedTopology(model);
    assert.deepEqual(routesOf(model), {
      '10.244.1.0/26': blackhole('10.244.1.0/26'),
      '10.244.2.0/26': vxlanRoute('10.244.2.0/26', '10.244.2.0'),
      '10.244.3.0/26': vxlanRoute('10.244.3.0/26', '10.244.3.0'),
    });
  });
  it('programs nothing for a remote block whose node has no VTEP yet, and adds it when it comes', () => {
    const model = newModel('n1');
    seedTopology(model);
    put(model, nodeKey('n3'), nodeJson('n3', { bgp: { ipv4Address: '192.168.20.13/24' } }));
    assert.equal(routesOf(model)['10.244.3.0/26'], undefined);
    put(
      model,
      nodeKey('n3'),
      nodeJson('n3', {
        bgp: { ipv4Address: '192.168.20.13/24' },
        ipv4VXLANTunnelAddr: '10.244.3.0',
      }),
    );
    const { routes } = model.takeChanges();
    assert.deepEqual(routes, ['10.244.3.0/26']);
    assert.deepEqual(
      model.desiredRoutes().get('10.244.3.0/26'),
      vxlanRoute('10.244.3.0/26', '10.244.3.0'),
    );
  });
});

describe('T4 CrossSubnet', () => {
  it('routes directly within the subnet and through VXLAN across it', () => {
    const model = newModel('n1');
    seedTopology(model, 'CrossSubnet');
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.2.0/26'], directRoute('10.244.2.0/26', '192.168.10.12'));
    assert.deepEqual(routes['10.244.3.0/26'], vxlanRoute('10.244.3.0/26', '10.244.3.0'));
  });
});

describe('T5 prefix sensitivity (issue #4254)', () => {
  it('a /32 local address sees no shared subnet; back to /24 the route is direct again', () => {
    const model = newModel('n1');
    seedTopology(model, 'CrossSubnet');
    const n1 = (address: string) =>
      nodeJson('n1', { bgp: { ipv4Address: address }, ipv4VXLANTunnelAddr: '10.244.1.0' });
    put(model, nodeKey('n1'), n1('192.168.10.11/32'));
    assert.equal(routesOf(model)['10.244.2.0/26']?.device, 'vxlan.calico');
    put(model, nodeKey('n1'), n1('192.168.10.11/24'));
    assert.equal(routesOf(model)['10.244.2.0/26']?.device, 'eth0');
  });
});

describe('T6 the same-subnet test uses the local prefix only', () => {
  it('n1 with a /16 routes to n3 directly while n3 encapsulates towards n1', () => {
    const n1 = newModel('n1');
    const n3 = newModel('n3');
    for (const model of [n1, n3]) {
      seedTopology(model, 'CrossSubnet');
      put(
        model,
        nodeKey('n1'),
        nodeJson('n1', {
          bgp: { ipv4Address: '192.168.10.11/16' },
          ipv4VXLANTunnelAddr: '10.244.1.0',
        }),
      );
    }
    assert.deepEqual(routesOf(n1)['10.244.3.0/26'], directRoute('10.244.3.0/26', '192.168.20.13'));
    assert.deepEqual(routesOf(n3)['10.244.1.0/26'], vxlanRoute('10.244.1.0/26', '10.244.1.0'));
  });
});

describe('T7 local blackhole', () => {
  it('a pool of /32 blocks gets no blackhole (issue #2624)', () => {
    const model = newModel('n1');
    seedTopology(model);
    put(
      model,
      poolKey('p32'),
      poolJson('p32', { cidr: '10.50.0.0/24', blockSize: 32, vxlanMode: 'Always' }),
    );
    put(model, blockKey(4, '10.50.0.7/32'), blockJson('10.50.0.7/32', 'n1', { 0: 'n1' }, 1));
    assert.equal(routesOf(model)['10.50.0.7/32'], undefined);
  });
  it('a block of no pool (or of a LoadBalancer-only pool) routes nothing', () => {
    const model = newModel('n1');
    seedTopology(model);
    put(model, blockKey(4, '10.60.0.0/26'), blockJson('10.60.0.0/26', 'n2'));
    put(
      model,
      poolKey('lb'),
      poolJson('lb', { cidr: '10.70.0.0/24', allowedUses: ['LoadBalancer'] }),
    );
    put(model, blockKey(4, '10.70.0.0/26'), blockJson('10.70.0.0/26', 'n2'));
    const routes = routesOf(model);
    assert.equal(routes['10.60.0.0/26'], undefined);
    assert.equal(routes['10.70.0.0/26'], undefined);
  });
});

describe('T8 borrowed /32', () => {
  const borrow = (model: ReturnType<typeof newModel>) =>
    put(
      model,
      blockKey(4, '10.244.1.0/26'),
      blockJson('10.244.1.0/26', 'n1', { 0: 'n1', 5: 'n1', 9: 'n2' }),
    );
  it('n3 routes the /32 to the borrower beside the /26 to the owner', () => {
    const model = newModel('n3');
    seedTopology(model);
    borrow(model);
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.1.9/32'], vxlanRoute('10.244.1.9/32', '10.244.2.0'));
    assert.deepEqual(routes['10.244.1.0/26'], vxlanRoute('10.244.1.0/26', '10.244.1.0'));
  });
  it('the block owner routes the /32 to the borrower, beating its blackhole', () => {
    const model = newModel('n1');
    seedTopology(model);
    borrow(model);
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.1.9/32'], vxlanRoute('10.244.1.9/32', '10.244.2.0'));
    assert.deepEqual(routes['10.244.1.0/26'], blackhole('10.244.1.0/26'));
  });
  it('the borrower programs nothing towards itself', () => {
    const model = newModel('n2');
    seedTopology(model);
    borrow(model);
    assert.equal(routesOf(model)['10.244.1.9/32'], undefined);
  });
  it('a release removes the /32 everywhere', () => {
    const model = newModel('n3');
    seedTopology(model);
    borrow(model);
    model.takeChanges();
    put(
      model,
      blockKey(4, '10.244.1.0/26'),
      blockJson('10.244.1.0/26', 'n1', { 0: 'n1', 5: 'n1' }),
    );
    assert.deepEqual(model.takeChanges().routes, ['10.244.1.9/32']);
    assert.equal(model.desiredRoutes().get('10.244.1.9/32'), undefined);
  });
});

describe('T9 borrowed tunnel address (issues #5595, #6160)', () => {
  it('a remote VTEP borrowed from a third node gets a connected /32 on vxlan.calico', () => {
    const model = newModel('n2');
    seedTopology(model);
    put(
      model,
      nodeKey('n3'),
      nodeJson('n3', {
        bgp: { ipv4Address: '192.168.20.13/24' },
        ipv4VXLANTunnelAddr: '10.244.1.60',
      }),
    );
    put(
      model,
      blockKey(4, '10.244.1.0/26'),
      blockJson('10.244.1.0/26', 'n1', { 0: 'n1', 60: 'n3' }),
    );
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.1.60/32'], {
      family: 4,
      dst: '10.244.1.60/32',
      type: 'unicast',
      device: 'vxlan.calico',
      onlink: false,
      protocol: 3,
      scope: 'link',
      mtu: 1450,
    });
    assert.deepEqual(routes['10.244.3.0/26'], vxlanRoute('10.244.3.0/26', '10.244.1.60'));
  });
});

describe('T14 lifecycle', () => {
  it('(a) deleting the pool removes every route and the device', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.takeChanges();
    put(model, poolKey('pool-a'), undefined);
    const changes = model.takeChanges();
    assert.equal(changes.devices, true);
    assert.deepEqual([...changes.routes].sort(), [
      '10.244.1.0/26',
      '10.244.2.0/26',
      '10.244.3.0/26',
    ]);
    assert.equal(model.desiredRoutes().size, 0);
    assert.deepEqual(model.vxlanDevice(4), { state: 'absent' });
    assert.equal(model.vtepEntries('n2', 4), undefined);
  });
  it('(b) disabling the pool keeps routes (Felix never sees `disabled`)', () => {
    const model = newModel('n1');
    seedTopology(model);
    const before = routesOf(model);
    put(
      model,
      poolKey('pool-a'),
      poolJson('pool-a', { cidr: '10.244.0.0/16', vxlanMode: 'Always', disabled: true }),
    );
    assert.deepEqual(routesOf(model), before);
  });
  it('(c) deleting a block removes its route only', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.takeChanges();
    put(model, blockKey(4, '10.244.3.0/26'), undefined);
    assert.deepEqual(model.takeChanges().routes, ['10.244.3.0/26']);
    assert.equal(model.desiredRoutes().size, 2);
  });
  it('a block marked deleted routes nothing', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.takeChanges();
    const deleted = JSON.parse(blockJson('10.244.3.0/26', 'n3')) as Record<string, unknown>;
    put(model, blockKey(4, '10.244.3.0/26'), JSON.stringify({ ...deleted, deleted: true }));
    assert.deepEqual(model.takeChanges().routes, ['10.244.3.0/26']);
  });
  it('an affinity moved to another node changes the next hop; the old owner loses its blackhole', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.takeChanges();
    put(model, blockKey(4, '10.244.1.0/26'), blockJson('10.244.1.0/26', 'n2'));
    model.takeChanges();
    assert.deepEqual(
      model.desiredRoutes().get('10.244.1.0/26'),
      vxlanRoute('10.244.1.0/26', '10.244.2.0'),
    );
  });
  it('switching Always to CrossSubnet recomputes routes in place', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.takeChanges();
    put(
      model,
      poolKey('pool-a'),
      poolJson('pool-a', { cidr: '10.244.0.0/16', vxlanMode: 'CrossSubnet' }),
    );
    assert.deepEqual(model.takeChanges().routes, ['10.244.2.0/26']);
  });
});

describe('T15 IPIP desired state (no ipip module here)', () => {
  it('Always: tunl0 with MTU 1480 and the IPIP tunnel address; routes via N_R dev tunl0', () => {
    const model = newModel('n1');
    seedTopology(model, 'Never');
    put(
      model,
      poolKey('pool-a'),
      poolJson('pool-a', { cidr: '10.244.0.0/16', ipipMode: 'Always' }),
    );
    put(
      model,
      nodeKey('n1'),
      nodeJson('n1', {
        bgp: { ipv4Address: '192.168.10.11/24', ipv4IPIPTunnelAddr: '10.244.1.1' },
      }),
    );
    assert.deepEqual(model.ipipDevice(), {
      state: 'present',
      device: { name: 'tunl0', mtu: 1480, address: '10.244.1.1/32' },
    });
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.2.0/26'], {
      family: 4,
      dst: '10.244.2.0/26',
      type: 'unicast',
      gateway: '192.168.10.12',
      device: 'tunl0',
      onlink: true,
      protocol: 80,
      scope: 'global',
      mtu: 1480,
    });
    assert.deepEqual(routes['10.244.1.0/26'], blackhole('10.244.1.0/26'));
    assert.deepEqual(model.vxlanDevice(4), { state: 'absent' });
  });
  it('CrossSubnet: same subnet via eth0, otherwise via tunl0', () => {
    const model = newModel('n1');
    seedTopology(model, 'Never');
    put(
      model,
      poolKey('pool-a'),
      poolJson('pool-a', { cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' }),
    );
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.2.0/26'], directRoute('10.244.2.0/26', '192.168.10.12'));
    assert.equal(routes['10.244.3.0/26']?.device, 'tunl0');
    assert.equal(routes['10.244.3.0/26']?.gateway, '192.168.20.13');
  });
});

describe('no-encap pools', () => {
  it('route every remote block directly via the node address (Felix does not check the subnet)', () => {
    const model = newModel('n1');
    seedTopology(model, 'Never');
    const routes = routesOf(model);
    assert.deepEqual(routes['10.244.2.0/26'], directRoute('10.244.2.0/26', '192.168.10.12'));
    assert.deepEqual(routes['10.244.3.0/26'], directRoute('10.244.3.0/26', '192.168.20.13'));
    assert.deepEqual(model.ipipDevice(), { state: 'absent' });
  });
});

describe('T16 IPv6', () => {
  it('vxlan-v6.calico with the same VNI, MTU host-70, /128 address; v6 routes via the v6 VTEP', () => {
    const model = newModel('n1');
    seedTopology(model);
    put(
      model,
      poolKey('pool-6'),
      poolJson('pool-6', { cidr: 'fd00:244::/112', blockSize: 122, vxlanMode: 'Always' }),
    );
    for (const [name, k] of [
      ['n1', 1],
      ['n2', 2],
    ] as const) {
      put(
        model,
        nodeKey(name),
        nodeJson(name, {
          bgp: { ipv4Address: `192.168.10.1${k}/24`, ipv6Address: `fd00:10::1${k}/64` },
          ipv4VXLANTunnelAddr: `10.244.${k}.0`,
          ipv6VXLANTunnelAddr: `fd00:244::${k}00`,
        }),
      );
    }
    put(model, blockKey(6, 'fd00:244::200/122'), blockJson('fd00:244::200/122', 'n2'));
    assert.deepEqual(model.vxlanDevice(6), {
      state: 'present',
      device: {
        name: 'vxlan-v6.calico',
        family: 6,
        vni: 4096,
        port: 4789,
        local: 'fd00:10::11',
        parent: 'eth0',
        mac: vtepMac('n1', 6),
        mtu: 1430,
        address: 'fd00:244::100/128',
      },
    });
    assert.deepEqual(routesOf(model)['fd00:244::200/122'], {
      family: 6,
      dst: 'fd00:244::200/122',
      type: 'unicast',
      gateway: 'fd00:244::200',
      device: 'vxlan-v6.calico',
      onlink: true,
      protocol: 3,
      scope: 'global',
      mtu: 1430,
    });
    assert.deepEqual(model.vtepEntries('n2', 6), {
      fdb: { mac: vtepMac('n2', 6), dst: 'fd00:10::12' },
      neighbour: { ip: 'fd00:244::200', mac: vtepMac('n2', 6) },
    });
  });
});

describe('T18 MTU', () => {
  it('VXLAN routes carry the device MTU, which follows the host MTU', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.setEnvironment({ parent4: 'eth0', hostMtu: 9000 });
    assert.equal(routesOf(model)['10.244.2.0/26']?.mtu, 8950);
  });
});

describe('incremental cost', () => {
  it('one block change among 600 blocks re-evaluates to one changed route', () => {
    const model = newModel('n1');
    seedTopology(model);
    for (let i = 0; i < 600; i++) {
      const cidr = `10.244.${100 + Math.floor(i / 4)}.${(i % 4) * 64}/26`;
      put(model, blockKey(4, cidr), blockJson(cidr, i % 2 === 0 ? 'n2' : 'n3'));
    }
    model.takeChanges();
    put(model, blockKey(4, '10.244.150.64/26'), blockJson('10.244.150.64/26', 'n2', { 3: 'n3' }));
    const changes = model.takeChanges();
    assert.deepEqual([...changes.routes].sort(), ['10.244.150.64/26', '10.244.150.67/32']);
    assert.deepEqual(changes.vteps, []);
  });
  it('a remote node change re-evaluates only the routes that point at it', () => {
    const model = newModel('n1');
    seedTopology(model);
    model.takeChanges();
    put(
      model,
      nodeKey('n3'),
      nodeJson('n3', {
        bgp: { ipv4Address: '192.168.20.13/24' },
        ipv4VXLANTunnelAddr: '10.244.3.1',
      }),
    );
    const changes = model.takeChanges();
    assert.deepEqual(changes.routes, ['10.244.3.0/26']);
    assert.deepEqual(changes.vteps, ['n3']);
  });
});

describe('pools without encapsulation (§3.4, §6.3)', () => {
  it('are routed directly by the agent without BIRD', () => {
    const n1 = newModel('n1');
    seedTopology(n1, 'Never');
    const routes = routesOf(n1);
    assert.deepEqual(routes['10.244.2.0/26'], directRoute('10.244.2.0/26', '192.168.10.12'));
    assert.deepEqual(routes['10.244.1.0/26'], blackhole('10.244.1.0/26'));
  });

  it('are left to BIRD in BGP mode: no remote route and no blackhole from the agent', () => {
    const n1 = newModel('n1', { programNoEncapRoutes: false });
    seedTopology(n1, 'Never');
    assert.deepEqual(routesOf(n1), {});
  });

  it('leave VXLAN pools to the agent in BGP mode too', () => {
    const n1 = newModel('n1', { programNoEncapRoutes: false });
    seedTopology(n1, 'Always');
    const routes = routesOf(n1);
    assert.ok(routes['10.244.2.0/26'], 'the VXLAN route stays');
    assert.deepEqual(routes['10.244.1.0/26'], blackhole('10.244.1.0/26'));
  });
});
