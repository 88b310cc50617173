// cidrpool-cni end to end: a "node" network namespace (with an uplink and a default route, as a
// real node has) runs the real bin/cidrpool-cni, which delegates IPAM to the real
// bin/cidrpool-ipam (or Debian's host-local) through CNI_PATH and wires pod namespaces as
// Calico's `calico` plugin does. Kernel state is read as `ip -j` JSON; pods ping each other and
// the node; the WorkloadEndpoint is read back with `cidrpool get wep -A -o yaml`; DEL leaves no
// veth, no allocation and a clean `ipam check`. On the embedded store and on a real etcd (reached
// from the node namespace through a relay, test/helpers/netns-relay.ts). Needs root.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { startNetnsRelay, type NetnsRelay } from '../helpers/netns-relay.js';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';
import { runPodPlugin } from '../helpers/pod-plugin.js';
import { CLI, cleanEnv, inUseCount, seedStore, withStore } from './support.js';

const skip = netnsSkipReason();
const MTU = 1450;

interface IpLink {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
}
interface Wep {
  metadata: { name: string; namespace: string };
  spec: {
    interfaceName?: string;
    mac?: string;
    ipNetworks: string[];
    containerID: string;
    pod?: string;
    orchestrator: string;
  };
}

/** `ip -j <args>` in namespace `ns`, parsed. */
async function ipJson<T>(ns: string, args: string[]): Promise<T> {
  const r = await execIn(undefined, 'ip', ['-n', ns, '-j', ...args]);
  assert.equal(r.code, 0, `ip -n ${ns} -j ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as T;
}

async function ping(ns: string, address: string): Promise<void> {
  const r = await execIn(ns, 'ping', [
    address.includes(':') ? '-6' : '-4',
    '-c',
    '1',
    '-W',
    '2',
    address,
  ]);
  assert.equal(r.code, 0, `ping from ${ns} to ${address}: ${r.stdout}${r.stderr}`);
}

/** One test world: a node namespace with an uplink, a store seeded with pools and the node. */
class World {
  readonly scope = new NetnsScope('cp11p');
  readonly work = mkdtempSync(join(tmpdir(), 'cp11p-pod-'));
  node = '';
  /** Datastore keys as the plugin (inside the node namespace) must see them. */
  storeKeys: Record<string, unknown> = {};

  constructor(readonly ds: DatastoreConfig) {}

  async setUp(storeKeys: (node: string) => Promise<Record<string, unknown>>): Promise<void> {
    this.node = this.scope.create();
    const wan = this.scope.create();
    // The node's uplink: proxy ARP answers for 169.254.1.1 only where a route leads elsewhere.
    for (const args of [
      ['-n', this.node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'up0', 'netns', wan],
      ['-n', this.node, 'addr', 'add', '192.168.77.11/24', 'dev', 'eth0'],
      ['-n', this.node, 'link', 'set', 'eth0', 'up'],
      ['-n', wan, 'link', 'set', 'up0', 'up'],
      ['-n', this.node, 'route', 'add', 'default', 'via', '192.168.77.1'],
    ]) {
      const r = await execIn(undefined, 'ip', args);
      assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    }
    await withStore(this.ds, (store) =>
      seedStore(store, {
        pools: [
          { name: 'pods-v4', cidr: '10.91.0.0/24', blockSize: 26 },
          { name: 'pods-v6', cidr: 'fd00:91::/120', blockSize: 122 },
        ],
        nodes: [{ name: 'node-1' }],
      }),
    );
    this.storeKeys = await storeKeys(this.node);
  }

  conf(
    ipam: Record<string, unknown> = { type: 'cidrpool-ipam' },
    extra: Record<string, unknown> = {},
  ) {
    return {
      cniVersion: '1.0.0',
      name: 'pod-net',
      type: 'cidrpool-cni',
      mtu: MTU,
      nodename: 'node-1',
      log_level: 'info',
      ...this.storeKeys,
      ipam,
      ...extra,
    };
  }

  /** Run the pod plugin inside the node namespace. */
  call(command: string, containerId: string, pod: string, config: unknown, args?: string) {
    return runPodPlugin({ command, node: this.node, pod, containerId, config, args });
  }

  cli(args: string[]) {
    const env =
      this.ds.type === 'embedded'
        ? { DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: this.ds.dataDir }
        : { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: this.ds.endpoints.join(',') };
    return execIn(undefined, CLI, args, { env: cleanEnv(env) });
  }

  async endpoints(): Promise<Wep[]> {
    const r = await this.cli(['get', 'wep', '-A', '-o', 'yaml']);
    assert.equal(r.code, 0, r.stderr);
    return ((parseYaml(r.stdout) as { items?: Wep[] }).items ?? []) as Wep[];
  }

  async caliLinks(): Promise<string[]> {
    const links = await ipJson<IpLink[]>(this.node, ['link', 'show']);
    return links.map((l) => l.ifname).filter((n) => n.startsWith('cali'));
  }

  tearDown(): void {
    this.scope.cleanup();
    rmSync(this.work, { recursive: true, force: true });
  }
}

const hostNameOfPod = (namespace: string, pod: string) =>
  `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;

function podPluginSuite(
  name: string,
  open: () => Promise<DatastoreConfig>,
  close: () => Promise<void>,
  keysFor: (node: string, ds: DatastoreConfig) => Promise<Record<string, unknown>>,
  release: () => Promise<void>,
) {
  describe(`cidrpool-cni on ${name}`, { skip }, () => {
    let world: World;
    before(async () => {
      world = new World(await open());
      await world.setUp((node) => keysFor(node, world.ds));
    });
    after(async () => {
      await release();
      world?.tearDown();
      await close();
    });

    it('wires pods as Calico does: veth, /32 and /128, 169.254.1.1, proxy ARP, host routes, WEP; DEL cleans up', async () => {
      const podA = world.scope.create();
      const podB = world.scope.create();
      const dual = world.conf({ type: 'cidrpool-ipam', assign_ipv6: 'true' });
      const k8sArgs = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1';
      const addA = await world.call('ADD', 'ctr-a-0123456789', podA, dual, k8sArgs);
      assert.equal(addA.code, 0, addA.stdout + addA.stderr);
      const addB = await world.call('ADD', 'ctr-b-0123456789', podB, world.conf());
      assert.equal(addB.code, 0, addB.stdout + addB.stderr);
      const resultA = JSON.parse(addA.stdout);
      const resultB = JSON.parse(addB.stdout);

      const hostA = hostNameOfPod('shop', 'web-1');
      const hostB = 'calictr-b-01234'; // Calico: `cali` + the container ID's first 11 characters
      assert.deepEqual(resultA.interfaces[0], { name: hostA, mac: 'ee:ee:ee:ee:ee:ee' });
      assert.equal(resultA.interfaces[1].name, 'eth0');
      assert.equal(resultA.interfaces[1].sandbox, NetnsScope.pathOf(podA));
      const [v4A, v6A] = resultA.ips.map((ip: { address: string }) => ip.address) as string[];
      assert.match(v4A!, /^10\.91\.0\.\d+\/32$/);
      assert.match(v6A!, /^fd00:91::[0-9a-f]+\/128$/);
      const v4B = resultB.ips[0].address as string;
      assert.equal(resultB.ips.length, 1);
      assert.deepEqual(resultB.routes, [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);

      // Pod side: eth0 with the MTU, the MAC of the result, the addresses as /32 and /128.
      const [ethA] = await ipJson<IpLink[]>(podA, ['addr', 'show', 'dev', 'eth0']);
      assert.equal(ethA!.mtu, MTU);
      assert.ok(ethA!.flags.includes('UP'));
      assert.equal(ethA!.address, resultA.interfaces[1].mac);
      const global = ethA!.addr_info!.filter((a) => !a.local.startsWith('fe80'));
      assert.deepEqual(global.map((a) => `${a.local}/${a.prefixlen}`).sort(), [v4A, v6A].sort());
      const routes4 = await ipJson<IpRoute[]>(podA, ['-4', 'route', 'show']);
      assert.deepEqual(
        routes4.map((r) => ({ dst: r.dst, gateway: r.gateway, dev: r.dev, scope: r.scope })),
        [
          { dst: 'default', gateway: '169.254.1.1', dev: 'eth0', scope: undefined },
          { dst: '169.254.1.1', gateway: undefined, dev: 'eth0', scope: 'link' },
        ],
      );
      const routes6 = await ipJson<IpRoute[]>(podA, ['-6', 'route', 'show', 'default']);
      // The host end's link-local address: EUI-64 of ee:ee:ee:ee:ee:ee.
      assert.deepEqual(
        routes6.map((r) => ({ gateway: r.gateway, dev: r.dev })),
        [{ gateway: 'fe80::ecee:eeff:feee:eeee', dev: 'eth0' }],
      );

      // Node side: cali ends, MTU, MAC, up, proxy ARP, proxy NDP, a route per address.
      assert.deepEqual((await world.caliLinks()).sort(), [hostA, hostB].sort());
      const [caliA] = await ipJson<IpLink[]>(world.node, ['link', 'show', 'dev', hostA]);
      assert.equal(caliA!.mtu, MTU);
      assert.equal(caliA!.address, 'ee:ee:ee:ee:ee:ee');
      assert.ok(caliA!.flags.includes('UP'));
      for (const [key, want] of [
        [`net.ipv4.conf.${hostA}.proxy_arp`, '1'],
        [`net.ipv4.neigh.${hostA}.proxy_delay`, '0'],
        [`net.ipv6.conf.${hostA}.proxy_ndp`, '1'],
        [`net.ipv4.conf.${hostB}.proxy_arp`, '1'],
      ]) {
        const r = await execIn(world.node, 'sysctl', ['-n', key!]);
        assert.equal(r.stdout.trim(), want, key);
      }
      const hostRoutes4 = await ipJson<IpRoute[]>(world.node, [
        '-4',
        'route',
        'show',
        'dev',
        hostA,
      ]);
      assert.deepEqual(
        hostRoutes4.map((r) => [r.dst, r.scope]),
        [[v4A!.split('/')[0], 'link']],
      );
      const hostRoutes6 = await ipJson<IpRoute[]>(world.node, ['-6', 'route', 'show', v6A!]);
      assert.equal(hostRoutes6[0]?.dev, hostA);

      // Traffic: pod to pod (through the node), node to pod, IPv6 too.
      const ipA = v4A!.split('/')[0]!;
      const ipB = v4B.split('/')[0]!;
      await ping(podA, ipB);
      await ping(podB, ipA);
      await ping(world.node, ipA);
      await ping(world.node, v6A!.split('/')[0]!);

      // Exactly one endpoint per pod: the pod plugin's, with interface and MAC.
      const weps = await world.endpoints();
      assert.equal(weps.length, 2, JSON.stringify(weps));
      const wepA = weps.find((w) => w.spec.containerID === 'ctr-a-0123456789')!;
      assert.equal(wepA.metadata.name, 'node--1-k8s-web--1-eth0');
      assert.equal(wepA.metadata.namespace, 'shop');
      assert.equal(wepA.spec.pod, 'web-1');
      assert.equal(wepA.spec.interfaceName, hostA);
      assert.equal(wepA.spec.mac, resultA.interfaces[1].mac);
      assert.deepEqual(wepA.spec.ipNetworks.sort(), [v4A, v6A].sort());
      const wepB = weps.find((w) => w.spec.containerID === 'ctr-b-0123456789')!;
      assert.equal(wepB.spec.orchestrator, 'cni');
      assert.equal(wepB.metadata.name, 'node--1-cni-ctr--b--0123456789-eth0');
      assert.equal(wepB.spec.interfaceName, hostB);

      // CHECK passes, then fails once the pod's default route is gone.
      const checkA = await world.call(
        'CHECK',
        'ctr-a-0123456789',
        podA,
        { ...dual, prevResult: resultA },
        k8sArgs,
      );
      assert.equal(checkA.code, 0, checkA.stdout);
      const del = await execIn(undefined, 'ip', ['-n', podB, 'route', 'del', 'default']);
      assert.equal(del.code, 0, del.stderr);
      const checkB = await world.call('CHECK', 'ctr-b-0123456789', podB, {
        ...world.conf(),
        prevResult: resultB,
      });
      assert.equal(checkB.code, 1);
      assert.deepEqual(JSON.parse(checkB.stdout), {
        code: 999,
        msg: 'pod in /var/run/netns/' + podB + ' has no route 0.0.0.0/0 via 169.254.1.1 dev eth0',
        details: 'the pod network changed behind the runtime; DEL and ADD the container again',
      });

      // DEL (twice: idempotent) removes veths, allocations and endpoints.
      for (let round = 0; round < 2; round++) {
        const delA = await world.call('DEL', 'ctr-a-0123456789', podA, dual, k8sArgs);
        assert.equal(delA.code, 0, delA.stdout);
        const delB = await world.call('DEL', 'ctr-b-0123456789', podB, world.conf());
        assert.equal(delB.code, 0, delB.stdout);
      }
      assert.deepEqual(await world.caliLinks(), []);
      assert.deepEqual(
        (await ipJson<IpLink[]>(podA, ['link', 'show'])).map((l) => l.ifname),
        ['lo'],
      );
      assert.deepEqual(await world.endpoints(), []);
      assert.equal(await inUseCount(world.ds), 0n);
      const check = await world.cli(['ipam', 'check']);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /Check complete; found 0 problems\./);
    });

    it('passes IP= in CNI_ARGS to the IPAM plugin; a second ADD changes nothing', async () => {
      const pod = world.scope.create();
      const add = await world.call('ADD', 'ctr-ip', pod, world.conf(), 'IP=10.91.0.77');
      assert.equal(add.code, 0, add.stdout);
      assert.equal(JSON.parse(add.stdout).ips[0].address, '10.91.0.77/32');
      await ping(world.node, '10.91.0.77');
      // ADD again without DEL: refused before IPAM, whose undo would free the running pod's address.
      const again = await world.call('ADD', 'ctr-ip', pod, world.conf());
      assert.equal(again.code, 1);
      assert.match(JSON.parse(again.stdout).msg, /^container ctr-ip already has interface eth0/);
      assert.equal(await inUseCount(world.ds), 1n);
      await ping(world.node, '10.91.0.77');
      const del = await world.call('DEL', 'ctr-ip', pod, world.conf(), 'IP=10.91.0.77');
      assert.equal(del.code, 0, del.stdout);
      assert.equal(await inUseCount(world.ds), 0n);
    });

    it("an IPv6-only pod: /128, default via the node end's link-local address, no IPv4 at all", async () => {
      const pod = world.scope.create();
      const conf = world.conf({ type: 'cidrpool-ipam', assign_ipv4: 'false', assign_ipv6: 'true' });
      const add = await world.call('ADD', 'ctr-v6', pod, conf);
      assert.equal(add.code, 0, add.stdout + add.stderr);
      const result = JSON.parse(add.stdout);
      assert.equal(result.ips.length, 1);
      const address = result.ips[0].address as string;
      assert.match(address, /^fd00:91::[0-9a-f]+\/128$/);
      assert.deepEqual(result.routes, [{ dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' }]);
      assert.deepEqual(await ipJson<IpRoute[]>(pod, ['-4', 'route', 'show']), []);
      const [def] = await ipJson<IpRoute[]>(pod, ['-6', 'route', 'show', 'default']);
      assert.equal(def?.gateway, 'fe80::ecee:eeff:feee:eeee');
      const host = result.interfaces[0].name as string;
      const [route] = await ipJson<IpRoute[]>(world.node, ['-6', 'route', 'show', address]);
      assert.equal(route?.dev, host);
      await ping(world.node, address.split('/')[0]!);
      const check = await world.call('CHECK', 'ctr-v6', pod, { ...conf, prevResult: result });
      assert.equal(check.code, 0, check.stdout);
      const del = await world.call('DEL', 'ctr-v6', pod, conf);
      assert.equal(del.code, 0, del.stdout);
      assert.deepEqual(await world.caliLinks(), []);
      assert.equal(await inUseCount(world.ds), 0n);
    });

    it('rolls back a failed ADD: no veth, no allocation, no endpoint', async () => {
      // (1) The pod already has an eth0: the veth cannot be made after IPAM ADD succeeded.
      const pod = world.scope.create();
      const busy = await execIn(undefined, 'ip', [
        '-n',
        pod,
        'link',
        'add',
        'eth0',
        'type',
        'veth',
        'peer',
        'name',
        'other0',
      ]);
      assert.equal(busy.code, 0, busy.stderr);
      const add = await world.call('ADD', 'ctr-fail', pod, world.conf());
      assert.equal(add.code, 1);
      const error = JSON.parse(add.stdout);
      assert.equal(error.code, 999);
      assert.match(error.msg, /eth0 already exists in \/var\/run\/netns\//);
      // (2) The node routes the address elsewhere already: the veth exists when this fails.
      const pod2 = world.scope.create();
      const taken = await execIn(undefined, 'ip', [
        '-n',
        world.node,
        'route',
        'add',
        '10.91.0.88/32',
        'dev',
        'eth0',
      ]);
      assert.equal(taken.code, 0, taken.stderr);
      const add2 = await world.call('ADD', 'ctr-fail2', pod2, world.conf(), 'IP=10.91.0.88');
      assert.equal(add2.code, 1);
      assert.match(
        JSON.parse(add2.stdout).msg,
        /^route 10\.91\.0\.88\/32 already exists for an interface other than 'calictr-fail2': dev eth0$/,
      );
      await execIn(undefined, 'ip', ['-n', world.node, 'route', 'del', '10.91.0.88/32']);
      // (3) CNI_NETNS names no namespace.
      const add3 = await world.call('ADD', 'ctr-fail3', 'cp11p-never-made', world.conf());
      assert.equal(add3.code, 1);
      assert.match(
        JSON.parse(add3.stdout).msg,
        /^CNI_NETNS \/var\/run\/netns\/cp11p-never-made is not a network namespace: /,
      );
      assert.deepEqual(await world.caliLinks(), []);
      assert.deepEqual(
        (await ipJson<IpLink[]>(pod2, ['link', 'show'])).map((l) => l.ifname),
        ['lo'],
      );
      assert.equal(await inUseCount(world.ds), 0n);
      assert.deepEqual(await world.endpoints(), []);
    });

    it('delegates to Debian host-local IPAM as well', async () => {
      const pod = world.scope.create();
      const dataDir = join(world.work, 'host-local');
      const conf = world.conf({
        type: 'host-local',
        ranges: [[{ subnet: '10.92.0.0/24' }]],
        dataDir,
      });
      const add = await world.call('ADD', 'ctr-hl', pod, conf);
      assert.equal(add.code, 0, add.stdout + add.stderr);
      const result = JSON.parse(add.stdout);
      assert.match(result.ips[0].address, /^10\.92\.0\.\d+\/32$/);
      await ping(world.node, result.ips[0].address.split('/')[0]);
      const check = await world.call('CHECK', 'ctr-hl', pod, { ...conf, prevResult: result });
      assert.equal(check.code, 0, check.stdout);
      const [wep] = (await world.endpoints()).filter((w) => w.spec.containerID === 'ctr-hl');
      assert.equal(wep?.spec.interfaceName, 'calictr-hl');
      const del = await world.call('DEL', 'ctr-hl', pod, conf);
      assert.equal(del.code, 0, del.stdout);
      // host-local keeps one file per address (plus its lock and last-reserved files).
      const files = readdirSync(join(dataDir, 'pod-net')).filter((f) => /^\d/.test(f));
      assert.deepEqual(files, []);
      assert.deepEqual(await world.endpoints(), []);
    });
  });
}

{
  let dataDir = '';
  podPluginSuite(
    'the embedded store',
    async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'cp11p-store-'));
      return { type: 'embedded', dataDir };
    },
    async () => rmSync(dataDir, { recursive: true, force: true }),
    async (_node, ds) => ({
      datastore_type: 'embedded',
      data_dir: (ds as { dataDir: string }).dataDir,
    }),
    async () => undefined,
  );
}
{
  let etcd: EtcdCluster | undefined;
  let relay: NetnsRelay | undefined;
  podPluginSuite(
    'etcd',
    async () => {
      etcd = await startEtcd({ members: 1 });
      return { type: 'etcdv3', endpoints: etcd.endpoints };
    },
    async () => etcd?.stop(),
    async (node) => {
      relay = await startNetnsRelay(node, Number(new URL(etcd!.endpoints[0]!).port));
      return { datastore_type: 'etcdv3', etcd_endpoints: `http://127.0.0.1:${relay.port}` };
    },
    async () => relay?.stop(),
  );
}
