// The result's shape per delegating plugin (src/cni/layout.ts), the result JSON per cniVersion,
// and AutoAssign's skipped addresses on the real embedded store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  checkGatewayBlock,
  checkUsable,
  layoutOf,
  poolsNamed,
  shapeResult,
  type Layout,
} from '../../src/cni/layout.js';
import { buildResult } from '../../src/cni/result.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { poolsOf, type PoolInfo } from '../../src/ipam/pools.js';
import { formatCidr, networkOf, parseCidr, parseIp } from '../../src/net/index.js';
import { createTestIpam, ipsOfHandle, runPlugin, seedStore, withStore } from './support.js';

const pool = (name: string, cidr: string, blockSize: number): PoolInfo =>
  poolsOf([
    {
      key: `/calico/resources/v3/projectcalico.org/ippools/${name}`,
      revision: '1',
      value: JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name },
        spec: { cidr, blockSize },
      }),
    },
  ])[0]!;

const A = pool('a', '10.66.0.0/24', 28);
const B = pool('b', '10.99.0.0/16', 26);
const pools = [A, B];
const placed = (address: string) => {
  const ip = parseIp(address.split('/')[0]!);
  return [{ address, ip, pool: pools.find((p) => p.cidr.base === (ip.value & ~0xffn)) ?? A }];
};
const routePools = (family: 4 | 6) => poolsNamed(pools, family, []);

describe('results shaped for the delegating plugin', () => {
  it('chooses the layout from the plugin config', () => {
    assert.equal(layoutOf({ type: 'bridge' }).kind, 'segment');
    assert.equal(layoutOf({ type: 'bridge', isGateway: true }).kind, 'bridge-gateway');
    assert.equal(layoutOf({ type: 'bridge', isDefaultGateway: true }).kind, 'bridge-gateway');
    assert.equal(layoutOf({ type: 'bridge' }).bridge, 'cni0');
    assert.equal(layoutOf({ type: 'macvlan' }).kind, 'segment');
    assert.equal(layoutOf({ type: 'ptp' }).kind, 'ptp');
    assert.equal(layoutOf({ type: 'calico' }).kind, 'calico');
    assert.equal(layoutOf({}).kind, 'calico');
  });

  it('segment: the pool mask, no gateway, on-link routes to the other pools only', () => {
    const shaped = shapeResult(
      layoutOf({ type: 'macvlan' }),
      placed('10.66.0.113/28'),
      routePools,
      true,
    );
    assert.deepEqual(shaped, {
      ips: [{ address: '10.66.0.113/24', family: 4 }],
      routes: [{ dst: '10.99.0.0/16' }],
    });
  });

  it('bridge with isGateway: the block mask, its second address, every pool via it', () => {
    const layout = layoutOf({ type: 'bridge', isGateway: true });
    const shaped = shapeResult(layout, placed('10.66.0.117/28'), routePools, true);
    assert.deepEqual(shaped, {
      ips: [{ address: '10.66.0.117/28', family: 4, gateway: '10.66.0.113' }],
      routes: [
        { dst: '10.66.0.0/24', gw: '10.66.0.113' },
        { dst: '10.99.0.0/16', gw: '10.66.0.113' },
      ],
    });
  });

  it("ptp: the pool mask and the pool's second address as gateway", () => {
    const shaped = shapeResult(
      layoutOf({ type: 'ptp' }),
      placed('10.66.0.200/28'),
      routePools,
      true,
    );
    assert.deepEqual(shaped, {
      ips: [{ address: '10.66.0.200/24', family: 4, gateway: '10.66.0.1' }],
      routes: [{ dst: '10.99.0.0/16', gw: '10.66.0.1' }],
    });
  });

  it('calico (and result_routes none elsewhere): the address as assigned, no routes', () => {
    const calico = shapeResult(
      layoutOf({ type: 'calico' }),
      placed('10.66.0.113/28'),
      routePools,
      true,
    );
    assert.deepEqual(calico, { ips: [{ address: '10.66.0.113/28', family: 4 }], routes: [] });
    const none = shapeResult(
      layoutOf({ type: 'bridge' }),
      placed('10.66.0.113/28'),
      routePools,
      false,
    );
    assert.deepEqual(none.routes, []);
  });

  it('never gives a route with host bits set', () => {
    for (const layout of ['bridge', 'ptp', 'macvlan', 'calico'].map((type) => layoutOf({ type }))) {
      for (const address of ['10.66.0.1/28', '10.66.0.129/28', '10.66.0.254/28', '10.99.3.7/26']) {
        for (const route of shapeResult(layout, placed(address), routePools, true).routes) {
          const dst = parseCidr(route.dst); // parseCidr refuses host bits
          assert.equal(formatCidr(dst), route.dst);
        }
      }
    }
  });

  it('refuses an address a pod never gets, naming the subnet', () => {
    const refuses = (layout: Layout, ip: string, what: RegExp) =>
      assert.throws(
        () => checkUsable(layout, parseIp(ip), A),
        (err) => isCidrpoolError(err, 'CNI_UNUSABLE_ADDRESS') && what.test(err.message),
      );
    const gw = layoutOf({ type: 'bridge', isGateway: true });
    refuses(layoutOf({ type: 'bridge' }), '10.66.0.0', /network address of 10\.66\.0\.0\/24/);
    refuses(layoutOf({ type: 'bridge' }), '10.66.0.255', /broadcast address of 10\.66\.0\.0\/24/);
    refuses(gw, '10.66.0.113', /the gateway bridge puts on the host side of 10\.66\.0\.112\/28/);
    refuses(gw, '10.66.0.127', /broadcast address of 10\.66\.0\.112\/28/);
    refuses(layoutOf({ type: 'ptp' }), '10.66.0.1', /gateway ptp puts on the host side/);
    checkUsable(layoutOf({ type: 'bridge' }), parseIp('10.66.0.113'), A);
    checkUsable(layoutOf({ type: 'calico' }), parseIp('10.66.0.0'), A);
    // bridge with isGateway: only the node's block.
    const nodeBlocks = [parseCidr('10.66.0.112/28')];
    checkGatewayBlock(gw, parseIp('10.66.0.120'), A, nodeBlocks, 'n1');
    assert.throws(
      () => checkGatewayBlock(gw, parseIp('10.66.0.20'), A, nodeBlocks, 'n1'),
      /10\.66\.0\.20 is in block 10\.66\.0\.16\/28, but bridge "cni0" has isGateway and serves block 10\.66\.0\.112\/28 of node n1/,
    );
  });

  it('renders gateway and routes in every result version', () => {
    const shaped = {
      ips: [{ address: '10.66.0.117/28', family: 4 as const, gateway: '10.66.0.113' }],
      routes: [{ dst: '10.66.0.0/24', gw: '10.66.0.113' }],
    };
    assert.deepEqual(buildResult('1.0.0', shaped), {
      cniVersion: '1.0.0',
      ips: [{ address: '10.66.0.117/28', gateway: '10.66.0.113' }],
      routes: [{ dst: '10.66.0.0/24', gw: '10.66.0.113' }],
    });
    assert.deepEqual(buildResult('0.4.0', shaped), {
      cniVersion: '0.4.0',
      ips: [{ version: '4', address: '10.66.0.117/28', gateway: '10.66.0.113' }],
      routes: [{ dst: '10.66.0.0/24', gw: '10.66.0.113' }],
      dns: {},
    });
    assert.deepEqual(buildResult('0.2.0', shaped), {
      cniVersion: '0.2.0',
      ip4: {
        ip: '10.66.0.117/28',
        gateway: '10.66.0.113',
        routes: [{ dst: '10.66.0.0/24', gw: '10.66.0.113' }],
      },
      dns: {},
    });
  });
});

describe('AutoAssign passes over skipped addresses', () => {
  it('skips block and pool edges, records nothing for them, and stops when only they are left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp10-skip-'));
    try {
      await withStore({ type: 'embedded', dataDir: dir }, async (store) => {
        await seedStore(store, {
          pools: [
            { name: 'blocks', cidr: '10.90.0.0/27', blockSize: 29 },
            { name: 'edges', cidr: '10.91.0.0/28', blockSize: 30 },
          ],
          nodes: [{ name: 'n1' }],
        });
        const ipam = await createTestIpam(store);
        const take = async (poolCidr: string, skip: object, num: number) =>
          (
            await ipam.autoAssign({
              num4: num,
              num6: 0,
              hostname: 'n1',
              handleId: `h-${poolCidr.replace(/[./]/g, '-')}`,
              intendedUse: 'Workload',
              ipv4Pools: [poolCidr],
              skipIPv4: skip,
              allowPartial: true, // Calico's contract: what there is, not an error
            })
          ).ipv4.ips.map((a) => a.split('/')[0]!);
        // Four /29 blocks, each without its first two and last address: 5 x 4 = 20.
        const inBlocks = await take('10.90.0.0/27', { blockStart: 2, blockEnd: 1 }, 25);
        assert.equal(inBlocks.length, 20);
        for (const a of inBlocks) {
          const offset = parseIp(a).value - networkOf(parseIp(a), 29).base;
          assert.ok(offset >= 2n && offset <= 6n, a);
        }
        // A /28 pool without .0, .1 and .15: 13 addresses.
        const inPool = await take('10.91.0.0/28', { poolStart: 2, poolEnd: 1 }, 16);
        assert.equal(inPool.length, 13);
        for (const a of ['10.91.0.0', '10.91.0.1', '10.91.0.15']) assert.ok(!inPool.includes(a));
        const used = await ipam.getUtilization(['10.90.0.0/27', '10.91.0.0/28']);
        assert.deepEqual(
          used.map((p) => p.inUse),
          [20n, 13n],
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the host side never shares an address with a pod', () => {
  it('refuses a ptp ADD whose gateway a pod of another network holds, keeping nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp10-gw-'));
    const ds = { type: 'embedded' as const, dataDir: dir };
    try {
      await withStore(ds, (store) =>
        seedStore(store, {
          pools: [{ name: 'shared', cidr: '10.92.0.0/24', blockSize: 26 }],
          nodes: [{ name: 'n1' }],
        }),
      );
      const config = (type: string) => ({
        cniVersion: '1.0.0',
        name: `net-${type}`,
        type,
        ipam: { type: 'cidrpool-ipam', nodename: 'n1', datastore_type: 'embedded', data_dir: dir },
      });
      // Calico's plugin (a /32 pod behind 169.254.1.1) may hold the pool's second address...
      const calico = await runPlugin({
        command: 'ADD',
        containerId: 'calico-pod',
        args: 'IP=10.92.0.1',
        config: config('calico'),
      });
      assert.equal(calico.code, 0, calico.stdout);
      // ...which ptp would put on its host ends as the gateway.
      const ptp = await runPlugin({
        command: 'ADD',
        containerId: 'ptp-pod',
        config: config('ptp'),
      });
      assert.equal(ptp.json?.code, 999, ptp.stdout);
      assert.match(
        String(ptp.json?.msg),
        /^10\.92\.0\.1, the gateway ptp puts on the host side, is assigned to handle net-calico\.calico-pod$/,
      );
      assert.deepEqual(await ipsOfHandle(ds, 'net-ptp.ptp-pod'), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
