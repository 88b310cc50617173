// BGP mode end to end with Debian's bird2: three nodes in two subnets (n1, n2 on 192.168.10.0/24,
// n3 on 192.168.20.0/24) behind a router namespace that runs its own BIRD as a data-centre router
// (AS 65000), peered through BGPPeer resources. Each node runs `cidrpool node run
// --networking-backend bird`: n1 and n2 run and reconfigure their own BIRD, n3 drives a BIRD the
// test starts (--bird-socket/--bird-config). Pods are wired as Calico's
// CNI plugin wires them (veth cali*, /32, gateway 169.254.1.1, proxy_arp, host route), with
// addresses from `cidrpool ipam assign`. Runs on the embedded store (one data folder) and on an
// etcd that listens on the router's underlay address (the only place every namespace reaches);
// every `cidrpool` call runs in the router namespace for the same reason. Needs root (network namespaces); skipped with that reason otherwise.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { formatCidr, parseCidrMasked } from '../../src/net/index.js';
import { CLI } from '../cni/support.js';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';

const skip = netnsSkipReason();
const RELEASE_HOST = fileURLToPath(new URL('./release-host-affinities.js', import.meta.url));
const PATH = `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}`;

interface NodeSpec {
  readonly name: string;
  readonly ip: string;
  readonly subnet: '10' | '20';
}

const NODES: readonly NodeSpec[] = [
  { name: 'n1', ip: '192.168.10.11', subnet: '10' },
  { name: 'n2', ip: '192.168.10.12', subnet: '10' },
  { name: 'n3', ip: '192.168.20.13', subnet: '20' },
];

const RESOURCES = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: routed
spec:
  cidr: 10.244.0.0/16
  blockSize: 26
  ipipMode: Never
  vxlanMode: Never
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: private
spec:
  cidr: 10.99.0.0/16
  blockSize: 26
  ipipMode: Never
  vxlanMode: Never
---
${NODES.map(
  (n) => `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: ${n.name}
  labels:
    subnet: "${n.subnet}"
spec:
  bgp:
    ipv4Address: ${n.ip}/24
`,
).join('---\n')}---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: dc-router-10
spec:
  peerIP: 192.168.10.1
  asNumber: 65000
  nodeSelector: subnet == '10'
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: dc-router-20
spec:
  peerIP: 192.168.20.1
  asNumber: 65000
  nodeSelector: subnet == '20'
`;

/** The data-centre router: eBGP with every node, installs what it learns. */
const ROUTER_CONFIG = `router id 192.168.10.1;
protocol device { scan time 1; }
protocol direct { ipv4; interface "*"; }
protocol kernel {
  ipv4 { import none; export where source = RTS_BGP; };
  merge paths on;
}
template bgp node {
  local as 65000;
  direct;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
  ipv4 { import all; export where source = RTS_BGP; };
}
${NODES.map((n) => `protocol bgp ${n.name} from node { neighbor ${n.ip} as 64512; }`).join('\n')}
`;

/** The /26 block holding `ip` (blockSize 26 in both pools). */
function blockOf(ip: string): string {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return `${a}.${b}.${c}.${d & ~63}/26`;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Poll `probe` until it returns a value, at most `timeoutMs`; fail with the last seen state. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await delay(Math.min(250 * (attempt + 1), 1000));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** etcd on the router's underlay address, in the router namespace; stopped by the caller. */
async function startRouterEtcd(rtr: string, dataDir: string): Promise<ChildProcess> {
  // prettier-ignore
  const etcd = spawn('ip', [
    'netns', 'exec', rtr, 'etcd', '--name', 'cp12', '--data-dir', dataDir,
    '--listen-client-urls', 'http://192.168.10.1:2379',
    '--advertise-client-urls', 'http://192.168.10.1:2379',
    '--listen-peer-urls', 'http://127.0.0.1:2380',
    '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'cp12=http://127.0.0.1:2380',
    '--heartbeat-interval', '10', '--election-timeout', '100', '--log-level', 'error',
  ], { stdio: 'ignore', env: { ...process.env, PATH } });
  await eventually('etcd to be healthy', async () => {
    const r = await execIn(rtr, 'etcdctl', [
      '--endpoints',
      'http://192.168.10.1:2379',
      'endpoint',
      'health',
    ]);
    return r.code === 0 ? true : undefined;
  });
  return etcd;
}

for (const store of ['embedded', 'etcd'] as const) {
  describe(`BGP mode end to end on ${store} (bird2, three nodes, a router)`, { skip }, () => {
    const scope = new NetnsScope('cp12');
    const dir = mkdtempSync(
      join(store === 'etcd' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cp12-bgp-e2e-'),
    );
    const env: NodeJS.ProcessEnv =
      store === 'embedded'
        ? { PATH, CIDRPOOL_DATA_DIR: join(dir, 'data'), HOME: dir }
        : { PATH, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://192.168.10.1:2379', HOME: dir };
    let etcd: ChildProcess | undefined;
    const netns: Record<string, string> = {};
    const agents: Record<string, ChildProcess> = {};
    const agentLogs: Record<string, string> = {};
    let router: ChildProcess | undefined;
    let userBird: ChildProcess | undefined;
    const pods: Record<string, { ns: string; ip: string; node: string }> = {};

    const sh = async (ns: string | undefined, program: string, args: string[]) => {
      const r = await execIn(ns, program, args, { env: { ...process.env, PATH } });
      assert.equal(r.code, 0, `${program} ${args.join(' ')} in ${ns}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    const cli = async (args: string[], input?: string) => {
      const r = await execIn(netns.rtr, process.execPath, [CLI, ...args], { env, stdin: input });
      assert.equal(r.code, 0, `cidrpool ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const birdc = (node: string, args: string[]) =>
      sh(netns[node], 'birdc', ['-s', join(dir, node, 'bird.ctl'), ...args]);
    const routerRoutes = () =>
      sh(netns.rtr, 'birdc', ['-s', join(dir, 'rtr.ctl'), 'show', 'route']);
    const ping = (from: string, to: string) =>
      execIn(pods[from]!.ns, 'ping', ['-c', '1', '-W', '1', pods[to]!.ip]);

    /** `cidrpool node run` for `name` in its namespace, its log collected in agentLogs. */
    function startAgent(name: string, birdFlags: string[]): void {
      // prettier-ignore
      const child = spawn('ip', [
        'netns', 'exec', netns[name]!, process.execPath, CLI, 'node', 'run',
        '--name', name, '--networking-backend', 'bird', '--socket', 'none',
        '--mtu-file', join(dir, name, 'mtu'), ...birdFlags,
      ], { stdio: ['ignore', 'ignore', 'pipe'], env });
      agentLogs[name] = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (agentLogs[name] += d));
      agents[name] = child;
    }

    /** Wait until `child` has exited, after `signal` if it still runs. */
    const stopChild = (child: ChildProcess | undefined, signal: NodeJS.Signals) =>
      new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill(signal);
      });

    /** A pod wired as Calico's CNI plugin does, with an address from `cidrpool ipam assign`. */
    async function addPod(name: string, node: string, args: string[]): Promise<void> {
      const ip = (await cli(['ipam', 'assign', '--node', node, '--pod', name, ...args]))
        .trim()
        .split('/')[0]!;
      const ns = scope.create();
      const host = `calicp12${name}`;
      const n = netns[node]!;
      await sh(n, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await sh(ns, 'ip', ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
      await sh(ns, 'ip', ['link', 'set', 'eth0', 'up']);
      await sh(ns, 'ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
      await sh(ns, 'ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
      await sh(n, 'ip', ['link', 'set', host, 'up']);
      await sh(n, 'sysctl', ['-qw', `net.ipv4.conf.${host}.proxy_arp=1`]);
      await sh(n, 'ip', ['route', 'add', `${ip}/32`, 'dev', host, 'scope', 'link']);
      pods[name] = { ns, ip, node };
    }

    before(async () => {
      netns.rtr = scope.create();
      await sh(netns.rtr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      for (const subnet of ['10', '20']) {
        await sh(netns.rtr, 'ip', ['link', 'add', `cp12br${subnet}`, 'type', 'bridge']);
        await sh(netns.rtr, 'ip', [
          'addr',
          'add',
          `192.168.${subnet}.1/24`,
          'dev',
          `cp12br${subnet}`,
        ]);
        await sh(netns.rtr, 'ip', ['link', 'set', `cp12br${subnet}`, 'up']);
      }
      if (store === 'etcd') etcd = await startRouterEtcd(netns.rtr, join(dir, 'etcd'));
      for (const node of NODES) {
        const ns = scope.create();
        netns[node.name] = ns;
        const leg = `cp12${node.name}`;
        await sh(netns.rtr, 'ip', [
          'link',
          'add',
          leg,
          'type',
          'veth',
          'peer',
          'name',
          'cp12up',
          'netns',
          ns,
        ]);
        await sh(netns.rtr, 'ip', ['link', 'set', leg, 'master', `cp12br${node.subnet}`, 'up']);
        await sh(ns, 'ip', ['addr', 'add', `${node.ip}/24`, 'dev', 'cp12up']);
        await sh(ns, 'ip', ['link', 'set', 'cp12up', 'up']);
        await sh(ns, 'ip', ['route', 'add', 'default', 'via', `192.168.${node.subnet}.1`]);
        await sh(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
        mkdirSync(join(dir, node.name));
      }
      writeFileSync(join(dir, 'rtr.conf'), ROUTER_CONFIG);
      router = spawn(
        'ip',
        [
          'netns',
          'exec',
          netns.rtr,
          'bird',
          '-f',
          '-c',
          join(dir, 'rtr.conf'),
          '-s',
          join(dir, 'rtr.ctl'),
        ],
        { stdio: 'ignore', env: { ...process.env, PATH } },
      );
      await cli(['apply', '-f', '-'], RESOURCES);
      // Pods: one per node from the routed pool, one borrowed address (n2 holds an IP of n1's
      // block) and one pod from the pool whose export will be disabled.
      for (const node of NODES)
        await addPod(`p${node.name.slice(1)}`, node.name, ['--pool', 'routed']);
      const [n1Base] = blockOf(pods.p1!.ip).split('/');
      const [a, b, c, d] = n1Base!.split('.').map(Number) as [number, number, number, number];
      await addPod('b2', 'n2', ['--ip', `${a}.${b}.${c}.${d + 40}`]);
      await addPod('q1', 'n1', ['--pool', 'private']);
      for (const node of NODES) {
        // n3 drives a BIRD the test runs (--bird-socket/--bird-config); n1 and n2 run their own.
        const socket = join(dir, node.name, 'bird.ctl');
        const configFile = join(dir, node.name, 'bird.conf');
        let birdFlags = ['--bird-run-dir', join(dir, node.name)];
        if (node.name === 'n3') {
          writeFileSync(configFile, `router id ${node.ip};\nprotocol device {}\n`);
          userBird = spawn(
            'ip',
            ['netns', 'exec', netns.n3!, 'bird', '-f', '-c', configFile, '-s', socket],
            { stdio: 'ignore', env: { ...process.env, PATH } },
          );
          await eventually('the user-run BIRD to answer', async () =>
            (await execIn(netns.n3, 'birdc', ['-s', socket, 'show', 'status'])).code === 0
              ? true
              : undefined,
          );
          birdFlags = ['--bird-socket', socket, '--bird-config', configFile];
        }
        startAgent(node.name, birdFlags);
      }
    });

    after(async () => {
      await Promise.all(Object.values(agents).map((child) => stopChild(child, 'SIGTERM')));
      // A BIRD orphaned by a killed agent (the restart test) is shut down through its socket.
      for (const node of NODES) {
        await execIn(netns[node.name], 'birdc', ['-s', join(dir, node.name, 'bird.ctl'), 'down']);
      }
      await stopChild(router, 'SIGTERM');
      await stopChild(userBird, 'SIGTERM');
      await stopChild(etcd, 'SIGKILL');
      scope.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('every session is Established (node status) and the router holds every block', async () => {
      for (const node of NODES) {
        const expected = NODES.filter((n) => n !== node).length + 1;
        const status = await eventually(`node status of ${node.name}`, async () => {
          const r = await execIn(
            netns[node.name],
            process.execPath,
            [CLI, 'node', 'status', '--bird-run-dir', join(dir, node.name)],
            { env: { ...env, NODENAME: node.name } },
          );
          const established = (r.stdout.match(/\| up +\| [^|]+\| Established +\|/g) ?? []).length;
          return established === expected ? r.stdout : undefined;
        });
        assert.match(status, /^Calico process is running\.\n\nIPv4 BGP status\n\+-+/);
        assert.match(status, /\| +PEER ADDRESS +\| +PEER TYPE +\| STATE \|/);
        assert.match(
          status,
          new RegExp(`\\| 192\\.168\\.${node.subnet}\\.1 +\\| node specific +\\| up `),
        );
        assert.match(status, /node-to-node mesh/);
        assert.match(status, /IPv6 BGP status\nNo IPv6 peers found\.\n/);
      }
      const blocks = NODES.map((n) => blockOf(pods[`p${n.name.slice(1)}`]!.ip));
      const table = await eventually(
        'the router to learn every block and the borrowed /32',
        async () => {
          const routes = await routerRoutes();
          const all = [...blocks, `${pods.b2!.ip}/32`];
          return all.every((prefix) => routes.includes(prefix)) ? routes : undefined;
        },
      );
      // Blocks as /26 (not their pods' /32s); the borrowed address as a /32 via n2.
      for (const pod of ['p1', 'p2', 'p3']) {
        assert.doesNotMatch(table, new RegExp(`^${escape(pods[pod]!.ip)}/32`, 'm'));
      }
      assert.match(table, new RegExp(`${escape(pods.b2!.ip)}/32 +unicast \\[n2 `));
    });

    it('pods on every node reach each other across subnets, with no VXLAN device anywhere', async () => {
      for (const [from, to] of [
        ['p1', 'p3'],
        ['p3', 'p2'],
        ['p2', 'p1'],
        ['p3', 'b2'],
        ['p1', 'b2'],
      ]) {
        await eventually(`${from} -> ${to}`, async () =>
          (await ping(from!, to!)).code === 0 ? true : undefined,
        );
      }
      for (const node of NODES) {
        const links = JSON.parse(
          await sh(netns[node.name], 'ip', ['-j', '-d', 'link', 'show']),
        ) as {
          ifname: string;
          linkinfo?: { info_kind?: string };
        }[];
        assert.deepEqual(
          links.filter((l) => l.linkinfo?.info_kind === 'vxlan'),
          [],
          node.name,
        );
        // The remote blocks are BIRD's kernel routes, not encapsulated.
        const routes = await sh(netns[node.name], 'ip', ['route', 'show', 'proto', 'bird']);
        for (const other of NODES.filter((n) => n !== node)) {
          const block = blockOf(pods[`p${other.name.slice(1)}`]!.ip);
          assert.match(routes, new RegExp(`^${escape(block)} via `, 'm'));
        }
      }
    });

    it('disableBGPExport withdraws the pool everywhere on the next reload', async () => {
      const q1Block = blockOf(pods.q1!.ip);
      await eventually('the private pool to be advertised while export is on', async () =>
        (await routerRoutes()).includes(q1Block) ? true : undefined,
      );
      await cli(['patch', 'ippool', 'private', '-p', '{"spec":{"disableBGPExport":true}}']);
      await eventually('the router to drop the private block', async () =>
        (await routerRoutes()).includes(q1Block) ? undefined : true,
      );
      for (const node of ['n2', 'n3']) {
        await eventually(`${node} to drop the private block`, async () =>
          (await birdc(node, ['show', 'route'])).includes(q1Block) ? undefined : true,
        );
      }
      assert.notEqual((await ping('p3', 'q1')).code, 0, 'p3 (other subnet) must not reach q1');
      // The routed pool is untouched.
      assert.equal((await ping('p3', 'p1')).code, 0);
    });

    it('an agent killed with SIGKILL is replaced: the new one takes over its BIRD socket', async () => {
      await stopChild(agents.n2, 'SIGKILL');
      // Its BIRD lives on (and so do the routes it installed) until the next agent starts.
      await birdc('n2', ['show', 'status']);
      startAgent('n2', ['--bird-run-dir', join(dir, 'n2')]);
      await eventually('the new agent to shut the old BIRD down', async () =>
        /still answers; shutting it down/.test(agentLogs.n2!) ? true : undefined,
      );
      await eventually('n2 sessions Established again', async () => {
        const protocols = await birdc('n2', ['show', 'protocols']);
        return (protocols.match(/Established/g) ?? []).length === 3 ? true : undefined;
      });
      await eventually('p3 -> p2 again', async () =>
        (await ping('p3', 'p2')).code === 0 ? true : undefined,
      );
    });

    it("deleting a node's last block withdraws it", async () => {
      const n3Block = blockOf(pods.p3!.ip);
      await cli(['ipam', 'release', '--ip', pods.p3!.ip]);
      const released = await execIn(netns.rtr, process.execPath, [RELEASE_HOST, 'n3'], { env });
      assert.equal(released.code, 0, released.stderr);
      await eventually('the router to drop n3 block', async () =>
        (await routerRoutes()).includes(n3Block) ? undefined : true,
      );
      await eventually('n1 to drop n3 block', async () =>
        (await birdc('n1', ['show', 'route'])).includes(n3Block) ? undefined : true,
      );
      assert.match(agentLogs.n3!, /bird reconfigured/);
    });

    it('deleting a pool withdraws its blocks and borrowed addresses from every peer', async () => {
      await cli(['delete', 'ippool', 'routed']);
      await eventually('the router to forget the routed pool', async () =>
        (await routerRoutes()).includes('10.244.') ? undefined : true,
      );
      // n3 keeps its own pod routes (learned from its kernel); what it learned over BGP goes.
      await eventually('n3 to forget what it learned of the routed pool', async () =>
        (await birdc('n3', ['show', 'route', 'where', 'source', '=', 'RTS_BGP'])).includes(
          '10.244.',
        )
          ? undefined
          : true,
      );
    });

    it("IPv6: the mesh adds a session over the nodes' IPv6 addresses that carries their v6 blocks", async () => {
      for (const [name, ip6] of [
        ['n1', 'fd00:10::11'],
        ['n2', 'fd00:10::12'],
      ] as const) {
        await sh(netns[name], 'ip', ['-6', 'addr', 'add', `${ip6}/64`, 'dev', 'cp12up', 'nodad']);
        const patch = JSON.stringify({ spec: { bgp: { ipv6Address: `${ip6}/64` } } });
        await cli(['patch', 'node', name, '-p', patch]);
      }
      await cli(
        ['apply', '-f', '-'],
        'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: routed6\nspec:\n  cidr: fd00:244::/48\n  blockSize: 122\n  ipipMode: Never\n  vxlanMode: Never\n',
      );
      const assigned = await cli(['ipam', 'assign', '--node', 'n1', '--ipv4', '0', '--ipv6', '1']);
      const block = formatCidr(parseCidrMasked(assigned.trim()));
      const status = await eventually('the v6 mesh session on n1', async () => {
        const r = await execIn(
          netns.n1,
          process.execPath,
          [CLI, 'node', 'status', '--bird-run-dir', join(dir, 'n1')],
          { env: { ...env, NODENAME: 'n1' } },
        );
        return /IPv6 BGP status\n[^]*\| fd00:10::12 +\| node-to-node mesh \| up +\| [^|]+\| Established/.test(
          r.stdout,
        )
          ? r.stdout
          : undefined;
      });
      assert.doesNotMatch(status, /No IPv6 peers found/);
      // n2 learns n1's v6 block over BGP and BIRD installs it (the pool has no encapsulation).
      await eventually(`n2 to learn ${block}`, async () =>
        (await birdc('n2', ['show', 'route', 'protocol', 'Mesh_fd00_10__11'])).includes(block)
          ? true
          : undefined,
      );
      await eventually(`${block} in n2's kernel`, async () =>
        (await sh(netns.n2, 'ip', ['-6', 'route', 'show', 'proto', 'bird'])).includes(
          `${block} via fd00:10::11`,
        )
          ? true
          : undefined,
      );
      // n3 has no IPv6 address: no v6 session, and nothing v6 in its BIRD's tables.
      assert.doesNotMatch(await birdc('n3', ['show', 'protocols']), /fd00/);
    });
  });
}
