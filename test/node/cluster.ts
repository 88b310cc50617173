// A three-node cluster in network namespaces for the node agent's end-to-end tests (spec §8.1):
// an underlay namespace with bridges for 192.168.10.0/24, 192.168.20.0/24 and 203.0.113.0/24, a
// router joining them, nodes n1 and n2 in the first subnet and n3 in the second, and an outside
// namespace. Every namespace is named `cp11d<pid>-...` and removed by teardown(); nothing in the
// root namespace changes. Agents run as real `cidrpool node run` processes inside the node
// namespaces; the datastore is the embedded store (one data dir shared by every process) or an
// etcd started inside the router namespace on 192.168.10.1, which every node reaches through the
// underlay. Datastore writes of the test go through the `cidrpool` CLI run in the router namespace;
// pods are made by the `cidrpool-cni` plugin with `cidrpool-ipam`.
import { pollFor } from '../helpers/poll.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execIn, type ExecResult } from '../helpers/netns.js';
import { runPodPlugin } from '../helpers/pod-plugin.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = `${REPO_ROOT}bin/cidrpool`;

export type StoreKind = 'embedded' | 'etcd';

export interface NodeSpec {
  readonly name: string;
  readonly ip: string;
  readonly ip6: string;
  readonly subnet: 'br10' | 'br20';
  /** Extra flags of `cidrpool node run` (how this node finds its address). */
  readonly flags: readonly string[];
}

/** The §8.1 nodes; each finds its address another way, so all three methods are exercised. */
export const NODES: readonly NodeSpec[] = [
  {
    name: 'n1',
    ip: '192.168.10.11/24',
    ip6: 'fd00:10::11/64',
    subnet: 'br10',
    flags: ['--ip', '192.168.10.11/24'],
  },
  { name: 'n2', ip: '192.168.10.12/24', ip6: 'fd00:10::12/64', subnet: 'br10', flags: [] },
  {
    name: 'n3',
    ip: '192.168.20.13/24',
    ip6: 'fd00:20::13/64',
    subnet: 'br20',
    flags: ['--ip-autodetection-method', 'can-reach=192.168.10.1'],
  },
];

/** A pod wired as Calico's CNI plugin wires it. */
export interface Pod {
  readonly name: string;
  readonly node: string;
  readonly ns: string;
  readonly ip: string;
  readonly hostIface: string;
}

interface AgentProcess {
  readonly child: ChildProcess;
  log: string;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

/** Run a command that must succeed; return its stdout. */
export async function must(
  netns: string | undefined,
  program: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const r = await execIn(netns, program, args, { stdin, timeoutMs: 30_000 });
  if (r.code !== 0)
    throw new Error(
      `${program} ${args.join(' ')} (in ${netns ?? 'root'}) failed: ${r.stderr || r.stdout}`,
    );
  return r.stdout;
}

/** Poll `check` every 100 ms until it returns a value other than undefined, at most `timeoutMs`. */
export const waitFor = <T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> => pollFor(what, check, timeoutMs, 100);

export class Cluster {
  readonly prefix = `cp11d${process.pid}`;
  private readonly namespaces: string[] = [];
  private readonly agents = new Map<string, AgentProcess>();
  private etcd: ChildProcess | undefined;
  private readonly tmp = mkdtempSync(join(tmpdir(), 'cp11d-'));
  readonly pods = new Map<string, Pod>();

  constructor(readonly store: StoreKind) {}

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** The datastore environment every process of this cluster uses. */
  get storeEnv(): Record<string, string> {
    return this.store === 'embedded'
      ? { DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: join(this.tmp, 'data') }
      : { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://192.168.10.1:2379' };
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: this.tmp,
      ...this.storeEnv,
    };
  }

  private async addNamespace(name: string): Promise<string> {
    const ns = this.ns(name);
    await must(undefined, 'ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await must(undefined, 'ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  private async sysctl(ns: string, ...settings: string[]): Promise<void> {
    await must(ns, 'sysctl', ['-q', '-w', ...settings]);
  }

  /** A veth `inside` in `ns`, its peer `outside` on bridge `bridge` of the underlay. */
  private async plug(
    ns: string,
    inside: string,
    outside: string,
    bridge: string,
    addresses: string[],
  ): Promise<void> {
    const u = this.ns('u');
    await must(undefined, 'ip', [
      '-n',
      ns,
      'link',
      'add',
      inside,
      'type',
      'veth',
      'peer',
      'name',
      outside,
      'netns',
      u,
    ]);
    await must(undefined, 'ip', ['-n', u, 'link', 'set', outside, 'master', bridge, 'up']);
    for (const address of addresses) {
      const args = ['-n', ns, 'addr', 'add', address, 'dev', inside];
      await must(undefined, 'ip', address.includes(':') ? [...args, 'nodad'] : args);
    }
    await must(undefined, 'ip', ['-n', ns, 'link', 'set', inside, 'up']);
  }

  /** Build the topology (and start etcd in the router namespace for the etcd variant). */
  async build(): Promise<void> {
    const u = await this.addNamespace('u');
    for (const bridge of ['br10', 'br20', 'brx']) {
      await must(undefined, 'ip', ['-n', u, 'link', 'add', bridge, 'type', 'bridge']);
      await must(undefined, 'ip', ['-n', u, 'link', 'set', bridge, 'up']);
    }
    const rtr = await this.addNamespace('rtr');
    await this.plug(rtr, 'eth10', 'rtr10', 'br10', ['192.168.10.1/24', 'fd00:10::1/64']);
    await this.plug(rtr, 'eth20', 'rtr20', 'br20', ['192.168.20.1/24', 'fd00:20::1/64']);
    await this.plug(rtr, 'ethx', 'rtrx', 'brx', ['203.0.113.1/24']);
    await this.sysctl(rtr, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
    const ext = await this.addNamespace('ext');
    await this.plug(ext, 'eth0', 'ext0', 'brx', ['203.0.113.10/24']);
    await must(undefined, 'ip', [
      '-n',
      ext,
      'route',
      'add',
      '192.168.0.0/16',
      'via',
      '203.0.113.1',
    ]);
    for (const node of NODES) {
      const ns = await this.addNamespace(node.name);
      await this.plug(ns, 'eth0', node.name, node.subnet, [node.ip, node.ip6]);
      const gateway = node.subnet === 'br10' ? '192.168.10.1' : '192.168.20.1';
      await must(undefined, 'ip', ['-n', ns, 'route', 'add', 'default', 'via', gateway]);
      const gateway6 = node.subnet === 'br10' ? 'fd00:10::1' : 'fd00:20::1';
      await must(undefined, 'ip', ['-n', ns, '-6', 'route', 'add', 'default', 'via', gateway6]);
      await this.sysctl(ns, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
      // Count VXLAN packets arriving, to tell encapsulated from direct traffic (T3, T4).
      await must(
        ns,
        'nft',
        ['-f', '-'],
        `table inet ${this.prefix} {\n  counter vxlan_in {\n  }\n  chain input {\n    type filter hook input priority 0;\n    udp dport 4789 counter name vxlan_in\n  }\n}\n`,
      );
    }
    if (this.store === 'etcd') await this.startEtcd();
  }

  private async startEtcd(): Promise<void> {
    const dataDir = mkdtempSync(join('/dev/shm', 'cp11d-etcd-'));
    this.etcd = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.ns('rtr'),
        'etcd',
        '--name',
        'cp11d',
        '--data-dir',
        dataDir,
        '--listen-client-urls',
        'http://192.168.10.1:2379',
        '--advertise-client-urls',
        'http://192.168.10.1:2379',
        '--listen-peer-urls',
        'http://127.0.0.1:2380',
        '--initial-advertise-peer-urls',
        'http://127.0.0.1:2380',
        '--initial-cluster',
        'cp11d=http://127.0.0.1:2380',
        '--heartbeat-interval',
        '10',
        '--election-timeout',
        '100',
      ],
      { stdio: 'ignore' },
    );
    this.etcd.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
    await waitFor('etcd to serve', async () => {
      const r = await this.cli(['get', 'ippools'], undefined, false);
      return r.code === 0 ? true : undefined;
    });
  }

  /** Run `cidrpool args...` in the router namespace (it reaches both stores). */
  async cli(args: readonly string[], stdin?: string, check = true): Promise<ExecResult> {
    const r = await execIn(this.ns('rtr'), CLI, args, {
      env: this.env(),
      stdin,
      timeoutMs: 30_000,
    });
    if (check && r.code !== 0) throw new Error(`cidrpool ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  }

  /** `cidrpool apply -f -` of a YAML text. */
  apply(yaml: string): Promise<ExecResult> {
    return this.cli(['apply', '-f', '-'], yaml);
  }

  /** Start the agent of `node` with its flags (plus IPv6 and `extra`). */
  startAgent(node: NodeSpec, extra: readonly string[] = []): void {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.ns(node.name),
        CLI,
        'node',
        'run',
        '--name',
        node.name,
        // Not the machine-wide default socket: agents of other tests would answer this one's
        // plugins (same node names). This suite's plugins go to the datastore directly.
        '--socket',
        'none',
        '--ip6',
        node.ip6,
        '--mtu-file',
        this.mtuFile(node.name),
        ...node.flags,
        ...extra,
      ],
      { env: this.env(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const agent: AgentProcess = { child, log: '' };
    child.stderr!.on('data', (chunk: Buffer) => (agent.log += chunk.toString()));
    child.on('exit', (code, signal) => (agent.exited = { code, signal }));
    this.agents.set(node.name, agent);
  }

  /** SIGTERM the agent of `node`; resolves with its exit and how long it took. */
  async stopAgent(name: string): Promise<{ code: number | null; ms: number; log: string }> {
    const agent = this.agents.get(name);
    if (!agent) throw new Error(`no agent for ${name}`);
    const started = Date.now();
    if (!agent.exited) {
      const exited = new Promise<void>((resolve) => agent.child.once('exit', () => resolve()));
      agent.child.kill('SIGTERM');
      const timeout = delay(10_000).then(() => agent.child.kill('SIGKILL'));
      await Promise.race([exited, timeout]);
      if (!agent.exited) await exited;
    }
    this.agents.delete(name);
    return { code: agent.exited?.code ?? null, ms: Date.now() - started, log: agent.log };
  }

  /** Where the agent of `name` writes the pod MTU (not the machine's /var/lib/calico/mtu). */
  mtuFile(name: string): string {
    return join(this.tmp, `${name}.mtu`);
  }

  agentLog(name: string): string {
    return this.agents.get(name)?.log ?? '';
  }

  /** `ip -j args...` in the namespace of `name`, parsed. */
  async ipJson<T = Record<string, unknown>>(name: string, args: readonly string[]): Promise<T[]> {
    const out = await must(this.ns(name), 'ip', ['-j', ...args]);
    return out.trim() ? (JSON.parse(out) as T[]) : [];
  }

  /** `bridge -j args...` in the namespace of `name`, parsed. */
  async bridgeJson<T = Record<string, unknown>>(
    name: string,
    args: readonly string[],
  ): Promise<T[]> {
    const out = await must(this.ns(name), 'bridge', ['-j', ...args]);
    return out.trim() ? (JSON.parse(out) as T[]) : [];
  }

  /** The main-table routes of `name` (family 4 or 6), by destination. */
  async routes(name: string, family: 4 | 6 = 4): Promise<Map<string, Record<string, unknown>>> {
    const routes = await this.ipJson(name, [`-${family}`, '-d', 'route', 'show', 'table', 'main']);
    return new Map(
      routes.map((r) => [String(r.type === 'blackhole' ? `blackhole ${r.dst}` : r.dst), r]),
    );
  }

  /** Packets counted arriving on UDP 4789 in `name`. */
  async vxlanPackets(name: string): Promise<number> {
    const out = await must(this.ns(name), 'nft', [
      '-j',
      'list',
      'counter',
      'inet',
      this.prefix,
      'vxlan_in',
    ]);
    const parsed = JSON.parse(out) as { nftables: { counter?: { packets: number } }[] };
    return parsed.nftables.find((e) => e.counter)?.counter?.packets ?? 0;
  }

  /**
   * A pod on `node`, made by the `cidrpool-cni` pod plugin (run in the node's namespace, as a
   * runtime runs it) with `cidrpool-ipam` as its IPAM plugin: veth `cali` + 11 hex digits, the
   * address as /32 on eth0 behind 169.254.1.1 with proxy ARP, a host route, the WorkloadEndpoint.
   * `ip` is passed as `IP=` in CNI_ARGS, as calico-ipam takes it.
   */
  async createPod(name: string, node: string, ip?: string, mtu = 1450): Promise<Pod> {
    const ns = await this.addNamespace(name);
    const containerId = createHash('sha1').update(name).digest('hex');
    const config = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'cidrpool-cni',
      mtu,
      nodename: node,
      ...(this.store === 'embedded'
        ? { datastore_type: 'embedded', data_dir: this.storeEnv.CIDRPOOL_DATA_DIR }
        : { datastore_type: 'etcdv3', etcd_endpoints: this.storeEnv.ETCD_ENDPOINTS }),
      ipam: { type: 'cidrpool-ipam' },
    };
    const r = await runPodPlugin({
      command: 'ADD',
      node: this.ns(node),
      pod: ns,
      containerId,
      config,
      args: ip ? `IgnoreUnknown=1;IP=${ip}` : 'IgnoreUnknown=1',
    });
    if (r.code !== 0)
      throw new Error(`cidrpool-cni ADD of ${name} failed: ${r.stdout} ${r.stderr}`);
    const result = JSON.parse(r.stdout) as { ips: { address: string }[] };
    const address = result.ips[0]!.address.split('/')[0]!;
    const pod = { name, node, ns, ip: address, hostIface: `cali${containerId.slice(0, 11)}` };
    this.pods.set(name, pod);
    return pod;
  }

  /** One ping from pod `from` to `to`; resolves with whether a reply came. */
  async ping(from: string, to: string, extra: readonly string[] = []): Promise<boolean> {
    const r = await execIn(this.ns(from), 'ping', ['-c', '1', '-W', '1', ...extra, to], {
      timeoutMs: 10_000,
    });
    return r.code === 0;
  }

  /** Ping until a reply comes (neighbour and route set-up may take a moment), bounded. */
  async pingEventually(from: string, to: string, extra: readonly string[] = []): Promise<void> {
    await waitFor(
      `a reply from ${to} to ${from}`,
      async () => ((await this.ping(from, to, extra)) ? true : undefined),
      10_000,
    );
  }

  /** Stop every agent and etcd, delete every namespace of this cluster and the temp dir. */
  async teardown(): Promise<void> {
    for (const name of [...this.agents.keys()]) await this.stopAgent(name).catch(() => undefined);
    if (this.etcd && this.etcd.exitCode === null) {
      const exited = new Promise((resolve) => this.etcd!.once('exit', resolve));
      this.etcd.kill('SIGKILL');
      await exited;
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      await execIn(undefined, 'ip', ['netns', 'del', ns]);
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
