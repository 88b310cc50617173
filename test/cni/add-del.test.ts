// ADD -> CHECK -> DEL -> DEL with the real ./bin/cidrpool-ipam over every supported cniVersion,
// on the embedded store and on etcd (started by the test on a random loopback port): the result
// JSON byte for byte, the handle and its attributes, the WorkloadEndpoint, dual stack, explicit
// IP=, rollbacks, exhaustion, idempotent DEL, the legacy handle, STATUS and GC.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { resourceKey } from '../../src/datastore/keys.js';
import type { WorkloadEndpoint } from '../../src/resources/types.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';
import {
  ALL_VERSIONS,
  CLI,
  cleanEnv,
  createTestIpam,
  datastoreKeys,
  inUseCount,
  ipsOfHandle,
  runPlugin,
  seedStore,
  withStore,
} from './support.js';

const GO_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])? \+0000 UTC$/;

interface Backend {
  readonly name: string;
  setUp(): Promise<DatastoreConfig>;
  tearDown(): Promise<void>;
}

const backends: Backend[] = [
  (() => {
    let dir = '';
    return {
      name: 'embedded',
      async setUp() {
        dir = mkdtempSync(join(tmpdir(), 'cni-add-del-'));
        return { type: 'embedded', dataDir: dir } as const;
      },
      async tearDown() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  })(),
  (() => {
    let etcd: EtcdCluster | undefined;
    return {
      name: 'etcd',
      async setUp() {
        etcd = await startEtcd({ members: 1 });
        return { type: 'etcdv3', endpoints: etcd.endpoints } as const;
      },
      async tearDown() {
        await etcd?.stop();
      },
    };
  })(),
];

for (const backend of backends) {
  describe(`cidrpool-ipam ADD/CHECK/DEL (${backend.name} datastore)`, () => {
    let ds: DatastoreConfig;
    before(async () => {
      ds = await backend.setUp();
      await withStore(ds, (store) =>
        seedStore(store, {
          pools: [
            { name: 'pool-a', cidr: '10.65.0.0/16' },
            { name: 'pool-b', cidr: '10.66.0.0/16', assignmentMode: 'Manual' },
            { name: 'pool-v6', cidr: 'fd80:24e2:f998:72d6::/64' },
            { name: 'pool-tiny', cidr: '10.99.0.0/30', blockSize: 30, assignmentMode: 'Manual' },
          ],
          nodes: [{ name: 'node-a' }],
        }),
      );
    });
    after(() => backend.tearDown());

    const config = (extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) => ({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'calico',
      nodename: 'node-a',
      ...datastoreKeys(ds),
      ...extra,
      ipam: { type: 'cidrpool-ipam', ...ipam },
    });

    for (const version of ALL_VERSIONS) {
      it(`cniVersion ${version}: ADD prints Calico's result, CHECK passes, DEL twice succeeds`, async () => {
        const containerId = `ctr-${version.replace(/\./g, '')}`;
        const conf = config({ cniVersion: version });
        const add = await runPlugin({ command: 'ADD', containerId, config: conf });
        assert.equal(add.code, 0, add.stdout + add.stderr);
        const ips = await ipsOfHandle(ds, `k8s-pod-network.${containerId}`);
        assert.equal(ips.length, 1);
        const address = `${ips[0]!.split('/')[0]}/26`;
        assert.match(address, /^10\.65\.\d+\.\d+\/26$/);
        const expected =
          version < '0.3.0'
            ? { cniVersion: version, ip4: { ip: address }, dns: {} }
            : version < '1.0.0'
              ? {
                  cniVersion: version,
                  ips: [{ version: '4', address }],
                  dns: {},
                }
              : { cniVersion: version, ips: [{ address }] };
        // Byte for byte: 4-space indent, no trailing newline (containernetworking/cni rendering).
        assert.equal(add.stdout, JSON.stringify(expected, null, 4));

        if (version >= '0.4.0') {
          const check = await runPlugin({
            command: 'CHECK',
            containerId,
            config: { ...conf, prevResult: add.json },
          });
          assert.equal(check.code, 0, check.stdout);
          assert.equal(check.stdout, '');
        }
        for (let i = 0; i < 2; i++) {
          const del = await runPlugin({ command: 'DEL', containerId, config: conf });
          assert.equal(del.code, 0, del.stdout);
          assert.equal(del.stdout, '');
        }
        assert.deepEqual(await ipsOfHandle(ds, `k8s-pod-network.${containerId}`), []);
        if (version >= '0.4.0') {
          const check = await runPlugin({
            command: 'CHECK',
            containerId,
            config: { ...conf, prevResult: add.json },
          });
          assert.equal(check.code, 1);
          assert.equal(check.json?.code, 999);
          assert.match(
            String(check.json?.msg),
            /no addresses are assigned to handle k8s-pod-network\.ctr-/,
          );
        }
      });
    }

    it('records the handle, Calico attributes and a WorkloadEndpoint for a pod; DEL removes them', async () => {
      const args =
        'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-1;K8S_POD_NAME=my-pod;K8S_POD_INFRA_CONTAINER_ID=pod-ctr';
      const add = await runPlugin({
        command: 'ADD',
        containerId: 'pod-ctr',
        args,
        config: config(),
      });
      assert.equal(add.code, 0, add.stdout);
      const address = (add.json?.ips as { address: string }[])[0]!.address;
      const ip = address.split('/')[0]!;
      const info = await withStore(ds, async (store) =>
        (await createTestIpam(store)).getAssignmentAttributes(ip),
      );
      assert.equal(info?.handleId, 'k8s-pod-network.pod-ctr');
      assert.equal(info?.attrs.node, 'node-a');
      assert.equal(info?.attrs.pod, 'my-pod');
      assert.equal(info?.attrs.namespace, 'ns-1');
      assert.match(String(info?.attrs.timestamp), GO_TIME);

      const key = resourceKey('WorkloadEndpoint', 'node--a-k8s-my--pod-eth0', 'ns-1');
      const wep = await withStore(ds, (store) => store.get(key));
      assert.ok(wep, `expected an endpoint at ${key}`);
      const parsed = JSON.parse(wep.value) as WorkloadEndpoint;
      assert.equal(parsed.kind, 'WorkloadEndpoint');
      assert.equal(parsed.metadata.namespace, 'ns-1');
      assert.deepEqual(parsed.spec.ipNetworks, [`${ip}/32`]);
      assert.equal(parsed.spec.pod, 'my-pod');
      assert.equal(parsed.spec.node, 'node-a');
      assert.equal(parsed.spec.containerID, 'pod-ctr');
      assert.equal(parsed.spec.orchestrator, 'k8s');

      const del = await runPlugin({
        command: 'DEL',
        containerId: 'pod-ctr',
        args,
        config: config(),
      });
      assert.equal(del.code, 0, del.stdout);
      assert.equal(await withStore(ds, (store) => store.get(key)), undefined);
      assert.equal(
        await withStore(ds, async (store) =>
          (await createTestIpam(store)).getAssignmentAttributes(ip),
        ),
        undefined,
      );
    });

    it('shows the pod with its NETWORKS in `cidrpool get wep -A` and a clean `ipam check`', async () => {
      const args = 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1';
      const add = await runPlugin({
        command: 'ADD',
        containerId: 'wep-ctr',
        args,
        config: config(),
      });
      assert.equal(add.code, 0, add.stdout);
      const ip = (add.json?.ips as { address: string }[])[0]!.address.split('/')[0]!;
      const cliEnv = cleanEnv(
        ds.type === 'embedded'
          ? { DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: ds.dataDir }
          : { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: ds.endpoints.join(',') },
      );
      const get = spawnSync(CLI, ['get', 'wep', '-A'], {
        env: cliEnv,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(get.status, 0, get.stderr);
      const row = get.stdout.split('\n').find((line) => /\bweb-1\b/.test(line)) ?? '';
      assert.match(
        row,
        new RegExp(`^shop\\s+web-1\\s+node-a\\s+${ip.replace(/\./g, '\\.')}/32`),
        get.stdout,
      );
      const check = spawnSync(CLI, ['ipam', 'check'], {
        env: cliEnv,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(check.status, 0, check.stderr);
      assert.match(check.stdout, /Check complete; found 0 problems\./);
      const del = await runPlugin({
        command: 'DEL',
        containerId: 'wep-ctr',
        args,
        config: config(),
      });
      assert.equal(del.code, 0, del.stdout);
      const after = spawnSync(CLI, ['get', 'wep', '-A'], {
        env: cliEnv,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.doesNotMatch(after.stdout, /\bweb-1\b/);
    });

    it('names plain CNI endpoints <node>-cni-<containerID>-<iface>', async () => {
      const add = await runPlugin({
        command: 'ADD',
        containerId: 'abc-1',
        ifName: 'net1',
        config: config(),
      });
      assert.equal(add.code, 0, add.stdout);
      const key = resourceKey('WorkloadEndpoint', 'node--a-cni-abc--1-net1', 'default');
      assert.ok(await withStore(ds, (store) => store.get(key)));
      await runPlugin({ command: 'DEL', containerId: 'abc-1', ifName: 'net1', config: config() });
      assert.equal(await withStore(ds, (store) => store.get(key)), undefined);
    });

    it('assigns both families with the block masks (dual stack)', async () => {
      const conf = config({}, { assign_ipv4: 'true', assign_ipv6: 'true' });
      const add = await runPlugin({ command: 'ADD', containerId: 'dual-1', config: conf });
      assert.equal(add.code, 0, add.stdout);
      const ips = (add.json?.ips as { address: string }[]).map((i) => i.address);
      assert.equal(ips.length, 2);
      assert.match(ips[0]!, /^10\.65\.\d+\.\d+\/26$/);
      assert.match(ips[1]!, /^fd80:24e2:f998:72d6:[0-9a-f:]*\/122$/);
      assert.equal(add.json?.routes, undefined, 'calico-ipam gives no routes');
      await runPlugin({ command: 'DEL', containerId: 'dual-1', config: conf });
      assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.dual-1'), []);
    });

    it('assigns only IPv6 when assign_ipv4 is "false"', async () => {
      const conf = config({}, { assign_ipv4: 'false', assign_ipv6: 'true' });
      const add = await runPlugin({ command: 'ADD', containerId: 'v6-only', config: conf });
      assert.equal(add.code, 0, add.stdout);
      const ips = (add.json?.ips as { address: string }[]).map((i) => i.address);
      assert.equal(ips.length, 1);
      assert.match(ips[0]!, /\/122$/);
      await runPlugin({ command: 'DEL', containerId: 'v6-only', config: conf });
    });

    it('releases IPv4 when IPv6 cannot be met (rolls back)', async () => {
      const before = await inUseCount(ds);
      const conf = config({}, { assign_ipv6: 'true', ipv6_pools: ['fd00:dead::/64'] });
      const add = await runPlugin({ command: 'ADD', containerId: 'half-1', config: conf });
      assert.equal(add.code, 1, add.stdout);
      assert.match(String(add.json?.msg), /fd00:dead::\/64/);
      assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.half-1'), []);
      assert.equal(await inUseCount(ds), before);
    });

    it('uses the pools named in ipv4_pools (a Manual pool, by name)', async () => {
      const conf = config({}, { ipv4_pools: ['pool-b'] });
      const add = await runPlugin({ command: 'ADD', containerId: 'named-1', config: conf });
      assert.equal(add.code, 0, add.stdout);
      assert.match((add.json?.ips as { address: string }[])[0]!.address, /^10\.66\./);
      await runPlugin({ command: 'DEL', containerId: 'named-1', config: conf });
    });

    it('prints a result without "ips" when no family is asked for (Go omits empty lists)', async () => {
      const conf = config({ cniVersion: '0.3.1' }, { assign_ipv4: 'false' });
      const add = await runPlugin({ command: 'ADD', containerId: 'none-1', config: conf });
      assert.equal(add.code, 0, add.stdout);
      assert.equal(add.stdout, JSON.stringify({ cniVersion: '0.3.1', dns: {} }, null, 4));
      const v1 = await runPlugin({
        command: 'ADD',
        containerId: 'none-2',
        config: { ...conf, cniVersion: '1.0.0' },
      });
      assert.equal(v1.stdout, JSON.stringify({ cniVersion: '1.0.0' }, null, 4));
      for (const containerId of ['none-1', 'none-2']) {
        await runPlugin({ command: 'DEL', containerId, config: conf });
      }
    });

    it("resolves ipv4_pools / ipv6_pools entries as calico-ipam's ResolvePools does", async () => {
      const before = await inUseCount(ds);
      const cases: [Record<string, unknown>, string][] = [
        // Neither a CIDR nor a pool name: Go's ParseCIDR error.
        [
          { ipv4_pools: ['pool-a', 'no-such'] },
          'error parsing pool "no-such": invalid CIDR address: no-such',
        ],
        // A pool of the other family, by CIDR or by name: the network address, quoted.
        [
          { ipv4_pools: ['fd80:24e2:f998:72d6::/64'] },
          '"fd80:24e2:f998:72d6::" isn\'t a IPv4 address',
        ],
        [{ ipv4_pools: ['pool-v6'] }, '"fd80:24e2:f998:72d6::" isn\'t a IPv4 address'],
        [{ assign_ipv6: 'true', ipv6_pools: ['pool-a'] }, '"10.65.0.0" isn\'t a IPv6 address'],
        // A CIDR that is no pool's: AutoAssign's message, with the CIDR.
        [
          { ipv4_pools: ['10.65.0.0/17'] },
          'the given pool (10.65.0.0/17) does not exist, or is not enabled',
        ],
      ];
      for (const [ipam, msg] of cases) {
        const add = await runPlugin({
          command: 'ADD',
          containerId: 'resolve-1',
          config: config({}, ipam),
        });
        assert.equal(add.code, 1, add.stdout);
        assert.equal(add.json?.msg, msg);
      }
      assert.equal(await inUseCount(ds), before);
      // Host bits are masked, as net.ParseCIDR does.
      const ok = await runPlugin({
        command: 'ADD',
        containerId: 'resolve-2',
        config: config({}, { ipv4_pools: ['10.66.1.2/16'] }),
      });
      assert.equal(ok.code, 0, ok.stdout);
      assert.match((ok.json?.ips as { address: string }[])[0]!.address, /^10\.66\./);
      await runPlugin({ command: 'DEL', containerId: 'resolve-2', config: config() });
    });

    it('prints an IP= address the way Go prints a net.IP (canonical; ::ffff:a.b.c.d is IPv4)', async () => {
      const conf = config({ cniVersion: '0.4.0' });
      const v6 = await runPlugin({
        command: 'ADD',
        containerId: 'canon-1',
        args: 'IP=FD80:24E2:F998:72D6:0:0:0:10',
        config: conf,
      });
      assert.equal(v6.code, 0, v6.stdout);
      assert.deepEqual(v6.json?.ips, [{ version: '6', address: 'fd80:24e2:f998:72d6::10/128' }]);
      assert.equal(v6.json?.routes, undefined);
      const mapped = await runPlugin({
        command: 'ADD',
        containerId: 'canon-2',
        args: 'IP=::ffff:10.65.201.9',
        config: conf,
      });
      assert.equal(mapped.code, 0, mapped.stdout);
      assert.deepEqual(mapped.json?.ips, [{ version: '4', address: '10.65.201.9/32' }]);
      assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.canon-2'), ['10.65.201.9']);
      for (const containerId of ['canon-1', 'canon-2']) {
        await runPlugin({ command: 'DEL', containerId, config: conf });
      }
    });

    it("says how to fix the engine's common refusals (details)", async () => {
      const noNode = await runPlugin({
        command: 'ADD',
        containerId: 'fix-1',
        config: config({ nodename: 'no-such-node' }),
      });
      assert.equal(noNode.code, 1);
      assert.match(String(noNode.json?.msg), /resource does not exist: Node\(no-such-node\)/);
      assert.match(String(noNode.json?.details), /create that Node resource .* or set nodename/);
      const noPool = await runPlugin({
        command: 'ADD',
        containerId: 'fix-2',
        config: config({}, { ipv4_pools: ['10.65.0.0/17'] }),
      });
      assert.match(String(noPool.json?.details), /existing, enabled IPPool/);
    });

    it('assigns the address given with CNI_ARGS IP= as /32, and refuses it twice', async () => {
      const add = await runPlugin({
        command: 'ADD',
        containerId: 'ip-1',
        args: 'IP=10.65.200.7',
        config: config(),
      });
      assert.equal(add.code, 0, add.stdout);
      assert.deepEqual(add.json?.ips, [{ address: '10.65.200.7/32' }]);
      assert.equal(add.json?.routes, undefined);
      const again = await runPlugin({
        command: 'ADD',
        containerId: 'ip-2',
        args: 'IP=10.65.200.7',
        config: config(),
      });
      assert.equal(again.code, 1);
      assert.ok(again.json?.code === 999, again.stdout);
      assert.equal(
        again.json?.msg,
        'resource already exists: 10.65.200.7 with error: Address already assigned in block',
      );
      assert.match(String(again.json?.details), /cidrpool ipam show --ip 10\.65\.200\.7/);
      const bad = await runPlugin({
        command: 'ADD',
        containerId: 'ip-4',
        args: 'IP=10.65.200.8,10.65.200.9',
        config: config(),
      });
      assert.equal(bad.code, 1);
      assert.deepEqual(
        { code: bad.json?.code, msg: bad.json?.msg },
        {
          code: 4,
          msg: 'ARGS: error parsing value of pair "IP=10.65.200.8,10.65.200.9": invalid IP address: 10.65.200.8,10.65.200.9',
        },
      );
      assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.ip-4'), []);
      const outside = await runPlugin({
        command: 'ADD',
        containerId: 'ip-3',
        args: 'IP=192.0.2.1',
        config: config(),
      });
      assert.equal(outside.code, 1);
      assert.match(String(outside.json?.msg), /not in a configured pool/);
      await runPlugin({ command: 'DEL', containerId: 'ip-1', config: config() });
      assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.ip-1'), []);
    });

    it("fails with Calico's shortfall message when the pool is full, keeping nothing", async () => {
      const conf = config({}, { ipv4_pools: ['pool-tiny'] });
      for (let i = 0; i < 4; i++) {
        const add = await runPlugin({ command: 'ADD', containerId: `tiny-${i}`, config: conf });
        assert.equal(add.code, 0, add.stdout);
      }
      const full = await runPlugin({ command: 'ADD', containerId: 'tiny-4', config: conf });
      assert.equal(full.code, 1);
      assert.equal(full.json?.code, 999);
      assert.match(
        String(full.json?.msg),
        /^failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses/,
      );
      for (let i = 0; i < 4; i++) {
        const del = await runPlugin({ command: 'DEL', containerId: `tiny-${i}`, config: conf });
        assert.equal(del.code, 0, del.stdout);
      }
    });

    it('DEL of a container never added succeeds; DEL also releases the legacy handle', async () => {
      const unknown = await runPlugin({
        command: 'DEL',
        containerId: 'never-added',
        config: config(),
      });
      assert.equal(unknown.code, 0, unknown.stdout);
      assert.equal(unknown.stdout, '');
      await withStore(ds, async (store) => {
        const ipam = await createTestIpam(store);
        await ipam.assignIp({
          ip: '10.65.201.9',
          handleId: 'ns-old.old-pod',
          hostname: 'node-a',
          attrs: { node: 'node-a' },
        });
      });
      const args = 'K8S_POD_NAMESPACE=ns-old;K8S_POD_NAME=old-pod';
      const del = await runPlugin({
        command: 'DEL',
        containerId: 'old-ctr',
        args,
        config: config(),
      });
      assert.equal(del.code, 0, del.stdout);
      assert.deepEqual(await ipsOfHandle(ds, 'ns-old.old-pod'), []);
    });

    it('STATUS succeeds and GC releases only attachments that are no longer valid (1.1.0)', async () => {
      const conf = config({ cniVersion: '1.1.0', name: 'gc-net' });
      for (const id of ['keep-1', 'drop-1']) {
        const add = await runPlugin({ command: 'ADD', containerId: id, config: conf });
        assert.equal(add.code, 0, add.stdout);
      }
      const status = await runPlugin({ command: 'STATUS', config: conf });
      assert.equal(status.code, 0, status.stdout);
      const gc = await runPlugin({
        command: 'GC',
        config: {
          ...conf,
          'cni.dev/valid-attachments': [{ containerID: 'keep-1', ifname: 'eth0' }],
        },
      });
      assert.equal(gc.code, 0, gc.stdout);
      assert.equal((await ipsOfHandle(ds, 'gc-net.keep-1')).length, 1);
      assert.deepEqual(await ipsOfHandle(ds, 'gc-net.drop-1'), []);
      await runPlugin({ command: 'DEL', containerId: 'keep-1', config: conf });
    });

    it('leaves every block empty after the tests above', async () => {
      assert.equal(await inUseCount(ds), 0n);
    });
  });
}
