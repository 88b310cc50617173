// natOutgoing end to end (dataplane.md §8, T10-T12, T16, T17): the real agent (`cidrpool node run`) in a
// node namespace programs nftables and its VXLAN device; a pod made by the pod plugin
// (`cidrpool-cni` with `cidrpool-ipam`) pings an "outside" namespace whose nft counters, keyed on
// the source address, show whether the packet was masqueraded. Run on the embedded store (data dir
// shared by the CLI, the plugin and the agent) and on a real etcd running inside the node
// namespace (a root-namespace etcd is unreachable from there).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { vtepMac } from '../../src/dataplane/vtep-mac.js';
import { openDatastore } from '../../src/datastore/open.js';
import { startEtcdInNetns, type NetnsEtcd } from '../helpers/netns-etcd.js';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';
import { runPodPlugin } from '../helpers/pod-plugin.js';
import { waitFor } from './cluster.js';

const PREFIX = 'cp11n';
const CLI = fileURLToPath(new URL('../../../bin/cidrpool', import.meta.url));
const NODE_IP = '192.168.10.11';
const EXT_GW = '192.168.10.1';
const OUTSIDE = '203.0.113.10';
const EXCLUDED = '10.99.0.10'; // in a disabled pool: never a NAT destination (T12)
const STRANGER = '192.168.10.99'; // on ext's link, but no node's address (T17)
const NODE_IP6 = 'fd00:10::11';
const EXT_GW6 = 'fd00:10::1';
const OUTSIDE6 = 'fd00:203::10';
const TUNNEL_IP = '10.244.1.0';
const EXT_TUNNEL_IP = '10.244.3.0';

/** Run `command` (words separated by spaces) in `netns`; fail the test unless it exits 0. */
async function sh(netns: string, command: string): Promise<string> {
  const [program, ...args] = command.split(' ');
  const result = await execIn(netns, program!, args);
  assert.equal(result.code, 0, `${command} in ${netns}: ${result.stderr}`);
  return result.stdout;
}

interface Topology {
  node: string;
  pod: string;
  ext: string;
}

/**
 * node (eth0 192.168.10.11/24, forwarding) -- ext (192.168.10.1/24, plus 203.0.113.10 and
 * 10.99.0.10 on its interface; no route to the pods). The pod's namespace is empty: the pod
 * plugin wires it (addPod). ext plays a remote node for the tunnel: it runs no agent, so its end
 * of the VXLAN tunnel is built here, towards the VTEP MAC the agent gives n1's `vxlan.calico`.
 */
async function buildTopology(scope: NetnsScope): Promise<Topology> {
  const [node, pod, ext] = [scope.create(), scope.create(), scope.create()];
  await sh(node, `ip link add eth0 type veth peer name eth0 netns ${ext}`);
  await sh(node, `ip addr add ${NODE_IP}/24 dev eth0`);
  await sh(node, 'ip link set eth0 up');
  await sh(node, `ip route add default via ${EXT_GW}`);
  await sh(node, 'sysctl -qw net.ipv4.ip_forward=1');
  for (const address of [`${EXT_GW}/24`, `${OUTSIDE}/32`, `${EXCLUDED}/32`, `${STRANGER}/24`]) {
    await sh(ext, `ip addr add ${address} dev eth0`);
  }
  await sh(ext, 'ip link set eth0 up');
  // IPv6 beside it (T16's NAT part).
  await sh(node, 'sysctl -qw net.ipv6.conf.all.forwarding=1');
  await sh(node, `ip -6 addr add ${NODE_IP6}/64 dev eth0 nodad`);
  await sh(node, `ip -6 route add default via ${EXT_GW6}`);
  await sh(ext, `ip -6 addr add ${EXT_GW6}/64 dev eth0 nodad`);
  await sh(ext, `ip -6 addr add ${OUTSIDE6}/128 dev eth0 nodad`);
  // ext's end of the tunnel (vni 4096, port 4789), as the agent would build it on a node.
  const dev = 'dev vxlan.calico';
  await sh(
    ext,
    `ip link add vxlan.calico address ${vtepMac('ext', 4)} type vxlan id 4096 local ${EXT_GW} dev eth0 dstport 4789 nolearning`,
  );
  await sh(ext, `ip addr add ${EXT_TUNNEL_IP}/32 ${dev}`);
  await sh(ext, 'ip link set vxlan.calico up');
  const nodeMac = vtepMac('n1', 4);
  await sh(ext, `bridge fdb add ${nodeMac} ${dev} dst ${NODE_IP} self permanent`);
  await sh(ext, `ip neigh add ${TUNNEL_IP} lladdr ${nodeMac} ${dev} nud permanent`);
  await sh(ext, `ip route add ${TUNNEL_IP}/32 via ${TUNNEL_IP} ${dev} onlink`);
  // A table that is not the agent's: it must survive every start, change and restart.
  await execIn(node, 'nft', ['-f', '-'], {
    stdin: `table inet ${PREFIX}-keep {
	chain output {
		type filter hook output priority 0; policy accept;
		counter
	}
}
`,
  }).then((r) => assert.equal(r.code, 0, r.stderr));
  return { node, pod, ext };
}

/**
 * Wire the pod with the pod plugin (dual stack from the pools, `cidrpool-ipam` as its IPAM),
 * then the counters on ext keyed on the sources it may see (§8.1 `ext`). Returns the addresses.
 */
async function addPod(
  t: Topology,
  datastore: Record<string, string>,
): Promise<{ ip: string; ip6: string }> {
  const add = await runPodPlugin({
    command: 'ADD',
    node: t.node,
    pod: t.pod,
    containerId: `${PREFIX}-pod`,
    args: 'IgnoreUnknown=1',
    config: {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'cidrpool-cni',
      nodename: 'n1',
      agent_socket: 'none',
      ...datastore,
      ipam: { type: 'cidrpool-ipam', assign_ipv4: 'true', assign_ipv6: 'true' },
    },
  });
  assert.equal(add.code, 0, `pod plugin ADD: ${add.stdout} ${add.stderr}`);
  const ips = (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips.map(
    (i) => i.address.split('/')[0]!,
  );
  const pod = { ip: ips.find((a) => !a.includes(':'))!, ip6: ips.find((a) => a.includes(':'))! };
  assert.ok(pod.ip && pod.ip6, `dual-stack pod: ${add.stdout}`);
  await execIn(t.ext, 'nft', ['-f', '-'], {
    stdin: `table inet ${PREFIX}-ext {
	chain input {
		type filter hook input priority 0; policy accept;
		icmp type echo-request ip saddr ${pod.ip} counter comment "pod-src"
		icmp type echo-request ip saddr ${NODE_IP} counter comment "node-src"
		icmp type echo-request ip saddr ${TUNNEL_IP} counter comment "tunnel-src"
		icmpv6 type echo-request ip6 saddr ${pod.ip6} counter comment "pod6-src"
		icmpv6 type echo-request ip6 saddr ${NODE_IP6} counter comment "node6-src"
	}
}
`,
  }).then((r) => assert.equal(r.code, 0, r.stderr));
  return pod;
}

/** Packets counted by ext's rule with this comment. */
async function counter(ext: string, comment: string): Promise<number> {
  const listed = JSON.parse(await sh(ext, `nft -j list table inet ${PREFIX}-ext`)) as {
    nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[];
  };
  const rule = listed.nftables.find((o) => o.rule?.comment === comment)?.rule;
  const found = rule?.expr.find((e) => e.counter)?.counter;
  assert.ok(found, `no counter "${comment}" in ext`);
  return found.packets;
}

/** Ping `target` once from `netns` (with `-I source` when given); which counters moved on ext. */
async function pingAndCount(t: Topology, netns: string, target: string, source?: string) {
  const names = ['pod-src', 'node-src', 'tunnel-src', 'pod6-src', 'node6-src'] as const;
  const before = await Promise.all(names.map((n) => counter(t.ext, n)));
  const args = ['-c', '1', '-W', '1', ...(source ? ['-I', source] : []), target];
  const reply = (await execIn(netns, 'ping', args)).code === 0;
  const afterCounts = await Promise.all(names.map((n) => counter(t.ext, n)));
  const moved = names.filter((_, i) => afterCounts[i]! > before[i]!);
  return { reply, moved };
}

/** The parts of `nft -j list table` output these tests read. */
interface NftListed {
  set?: { name: string; elem?: { prefix: { addr: string; len: number } }[] };
  chain?: { name: string; type?: string; hook?: string; prio?: number };
}

/** The agent's IPv4 table as `nft -j` prints it (undefined when absent). */
async function agentTable(node: string, family = 'ip'): Promise<string | undefined> {
  const result = await execIn(node, 'nft', ['-j', 'list', 'table', family, 'calico']);
  return result.code === 0 ? result.stdout : undefined;
}

async function keepTableExists(node: string): Promise<boolean> {
  return (await execIn(node, 'nft', ['list', 'table', 'inet', `${PREFIX}-keep`])).code === 0;
}

interface Agent {
  readonly process: ChildProcess;
  log(): string;
  stop(): Promise<number | null>;
}

/** Start `cidrpool node run` in the node namespace; resolves once it reports running. */
async function startAgent(netns: string, env: NodeJS.ProcessEnv): Promise<Agent> {
  // `ip netns exec` passes the environment on to the agent.
  const child = spawn(
    'ip',
    // prettier-ignore
    ['netns', 'exec', netns, process.execPath, CLI, 'node', 'run', '--name', 'n1', '--socket', 'none', '--mtu-file', 'none'],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const agent: Agent = {
    process: child,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    const state = await waitFor(
      'the agent to run',
      async () => {
        if (child.exitCode !== null) return 'exited';
        return log.includes('node agent running') ? 'running' : undefined;
      },
      20_000,
    );
    if (state === 'exited') throw new Error(`agent exited ${child.exitCode}:\n${log}`);
  } catch (err) {
    await agent.stop();
    throw err;
  }
  return agent;
}

const poolYaml = (natOutgoing: boolean) => `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.244.0.0/16
  vxlanMode: Always
  natOutgoing: ${natOutgoing}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a6
spec:
  cidr: fd00:244::/64
  natOutgoing: ${natOutgoing}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: excluded
spec:
  cidr: 10.99.0.0/16
  disabled: true
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: n1
spec:
  bgp:
    ipv4Address: ${NODE_IP}/24
  ipv4VXLANTunnelAddr: ${TUNNEL_IP}
---
# ext plays a remote node for the tunnel: its VXLAN packets must pass the node's filter (T17).
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: ext
spec:
  bgp:
    ipv4Address: ${EXT_GW}/24
  ipv4VXLANTunnelAddr: ${EXT_TUNNEL_IP}
`;

const skip = netnsSkipReason();

for (const datastore of ['embedded', 'etcd'] as const) {
  describe(`natOutgoing through nftables (${datastore} store)`, { skip }, () => {
    const scope = new NetnsScope(PREFIX);
    const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
    let t: Topology;
    let etcd: NetnsEtcd | undefined;
    let agent: Agent | undefined;
    let env: NodeJS.ProcessEnv;

    const cli = async (args: string[], stdin?: string) => {
      const result = await execIn(t.node, process.execPath, [CLI, ...args], { env, stdin });
      assert.equal(result.code, 0, `cidrpool ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    };

    before(async () => {
      t = await buildTopology(scope);
      env = { PATH: process.env.PATH, HOME: dir, CIDRPOOL_DATA_DIR: join(dir, 'data') };
      if (datastore === 'etcd') {
        etcd = await startEtcdInNetns(t.node);
        env = {
          PATH: process.env.PATH,
          HOME: dir,
          DATASTORE_TYPE: 'etcdv3',
          ETCD_ENDPOINTS: etcd.endpoint,
        };
      }
      await cli(['apply', '-f', '-'], poolYaml(true));
      // n1's tunnel address held in IPAM under Calico's handle, so the agent's tunnel-address
      // service keeps it (an address IPAM does not hold would be replaced, and the NAT table
      // rewritten with the new one while a test compares it).
      await cli([
        'ipam',
        'assign',
        '--node',
        'n1',
        '--ip',
        TUNNEL_IP,
        '--handle',
        'vxlan-tunnel-addr-n1',
        '--use',
        'Tunnel',
      ]);
      await addPod(
        t,
        etcd
          ? { datastore_type: 'etcdv3', etcd_endpoints: etcd.endpoint }
          : { datastore_type: 'embedded', data_dir: env.CIDRPOOL_DATA_DIR! },
      );
    });

    after(async () => {
      await agent?.stop();
      await etcd?.stop();
      scope.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('T10: with natOutgoing the outside sees the node address; a disabled pool is never a NAT destination (T12)', async () => {
      agent = await startAgent(t.node, env);
      assert.ok(await keepTableExists(t.node), 'the unrelated table survived the start');
      // The kernel's view (nft -j): the two sets and the hook after kube-proxy's srcnat.
      const objects = (JSON.parse((await agentTable(t.node))!) as { nftables: NftListed[] })
        .nftables;
      const elements = (name: string) =>
        objects
          .find((o) => o.set?.name === name)
          ?.set?.elem?.map((e) => `${e.prefix.addr}/${e.prefix.len}`);
      assert.deepEqual(elements('cali40masq-ipam-pools'), ['10.244.0.0/16']);
      assert.deepEqual(elements('cali40network-ip-pools'), ['10.99.0.0/16', '10.244.0.0/16']);
      const hook = objects.find((o) => o.chain?.name === 'nat-POSTROUTING')?.chain;
      assert.deepEqual(
        { type: hook?.type, hook: hook?.hook, prio: hook?.prio },
        { type: 'nat', hook: 'postrouting', prio: 110 },
      );
      const toOutside = await pingAndCount(t, t.pod, OUTSIDE);
      assert.deepEqual(toOutside, { reply: true, moved: ['node-src'] });
      // T12: 10.99.0.0/16 is a (disabled) pool: the packet keeps the pod source, and the reply
      // is lost because ext has no route back to the pods, as expected.
      const toExcluded = await pingAndCount(t, t.pod, EXCLUDED);
      assert.deepEqual(toExcluded, { reply: false, moved: ['pod-src'] });
    });

    it('T16 (NAT): an IPv6 pod reaches the outside with the node address, through table ip6 calico', async () => {
      assert.deepEqual(await pingAndCount(t, t.pod, OUTSIDE6), {
        reply: true,
        moved: ['node6-src'],
      });
    });

    // T13 (host traffic masqueraded to the tunnel address) needs a pod behind a remote node's
    // agent: it runs in the three-node suite, test/node/dataplane-e2e.test.ts.

    it('T17: VXLAN to the node is dropped (and counted) from a host that is no node, accepted from a VTEP host', async () => {
      const drops = async () => {
        const listed = JSON.parse(await sh(t.node, 'nft -j list chain ip calico filter-INPUT')) as {
          nftables: { rule?: { expr: { counter?: { packets: number }; drop?: null }[] } }[];
        };
        const rule = listed.nftables.find((o) => o.rule?.expr.some((e) => 'drop' in e))?.rule;
        return rule!.expr.find((e) => e.counter)!.counter!.packets;
      };
      const before = await drops();
      // One UDP datagram to the VXLAN port, sent by ext from an address no Node has.
      const send = `const s = require('node:dgram').createSocket('udp4');
s.bind(0, '${STRANGER}', () => s.send('x', 4789, '${NODE_IP}', () => s.close()));`;
      assert.equal((await execIn(t.ext, process.execPath, ['-e', send])).code, 0);
      await waitFor('the drop counter to count the datagram', async () =>
        (await drops()) === before + 1 ? true : undefined,
      );
      // ext's own VXLAN (the reply of a tunnel ping) is accepted and not counted.
      assert.equal((await pingAndCount(t, t.node, EXT_TUNNEL_IP)).reply, true);
      assert.equal(await drops(), before + 1);
    });

    it('T11: turning natOutgoing off on the live agent lets the pod address through within seconds, and back', async () => {
      await cli(['apply', '-f', '-'], poolYaml(false));
      await waitFor('the masquerade rule to go', async () =>
        (await agentTable(t.node))?.includes('"masquerade": {"flags": "fully-random"}')
          ? undefined
          : true,
      );
      assert.deepEqual(await pingAndCount(t, t.pod, OUTSIDE), { reply: false, moved: ['pod-src'] });
      assert.ok(await keepTableExists(t.node), 'the unrelated table survived the change');

      await cli(['apply', '-f', '-'], poolYaml(true));
      await waitFor('the masquerade rule to return', async () =>
        (await agentTable(t.node))?.includes('"masquerade": {"flags": "fully-random"}')
          ? true
          : undefined,
      );
      assert.deepEqual(await pingAndCount(t, t.pod, OUTSIDE), { reply: true, moved: ['node-src'] });
    });

    it('a restart leaves both tables exactly as they were (nft -j, handles included) and others untouched', async () => {
      const [v4, v6] = [await agentTable(t.node, 'ip'), await agentTable(t.node, 'ip6')];
      assert.ok(v4 && v6);
      assert.equal(await agent!.stop(), 0, `agent exit:\n${agent!.log()}`);
      agent = undefined;
      assert.equal(await agentTable(t.node, 'ip'), v4, 'SIGTERM leaves the table in place');
      agent = await startAgent(t.node, env);
      assert.equal(await agentTable(t.node, 'ip'), v4);
      assert.equal(await agentTable(t.node, 'ip6'), v6);
      assert.ok(await keepTableExists(t.node), 'the unrelated table survived the restart');
      assert.deepEqual(await pingAndCount(t, t.pod, OUTSIDE), { reply: true, moved: ['node-src'] });
    });

    it('T12: Felix NAT options from FELIX_* (exclusions of host IPs, natOutgoingAddress, natPortRange)', async () => {
      // Default (IPPoolsOnly): a node's host address is an outside destination.
      assert.deepEqual(await pingAndCount(t, t.pod, EXT_GW), { reply: true, moved: ['node-src'] });
      await agent!.stop();
      agent = await startAgent(t.node, {
        ...env,
        FELIX_NATOUTGOINGEXCLUSIONS: 'IPPoolsAndHostIPs',
        FELIX_NATOUTGOINGADDRESS: NODE_IP,
        FELIX_NATPORTRANGE: '40000:40100',
      });
      assert.match(
        (await agentTable(t.node))!,
        /"snat": \{"addr": "192\.168\.10\.11", "port": \{"range": \[40000, 40100\]\}/,
      );
      // ext is a Node: its host address now keeps the pod's source (and the reply is lost).
      assert.deepEqual(await pingAndCount(t, t.pod, EXT_GW), { reply: false, moved: ['pod-src'] });
      // A UDP listener outside sees the node's address and a source port in the range.
      const listen = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (_m, r) => { console.log(r.address + ' ' + r.port); s.close(); });
s.bind(9999, '${OUTSIDE}', () => console.log('ready'));
setTimeout(() => process.exit(3), 10000).unref();`;
      const listener = spawn('ip', ['netns', 'exec', t.ext, process.execPath, '-e', listen]);
      let heard = '';
      listener.stdout.on('data', (chunk: Buffer) => (heard += chunk.toString()));
      const done = new Promise((resolve) => listener.once('exit', resolve));
      await waitFor('the listener', async () => (heard.includes('ready') ? true : undefined));
      const send = `const s = require('node:dgram').createSocket('udp4');
s.send('x', 9999, '${OUTSIDE}', () => s.close());`;
      assert.equal((await execIn(t.pod, process.execPath, ['-e', send])).code, 0);
      await done;
      const [address, port] = heard.split('\n')[1]!.split(' ');
      assert.equal(address, NODE_IP);
      assert.ok(Number(port) >= 40000 && Number(port) <= 40100, `source port ${port}`);
      // Back to Felix's defaults for the next case.
      await agent!.stop();
      agent = await startAgent(t.node, env);
      assert.deepEqual(await pingAndCount(t, t.pod, EXT_GW), { reply: true, moved: ['node-src'] });
    });

    it('a bad FELIX_NATPORTRANGE stops the agent at start with the variable, value and fix', async () => {
      const result = await execIn(
        t.node,
        process.execPath,
        [CLI, 'node', 'run', '--name', 'n1', '--socket', 'none', '--mtu-file', 'none'],
        {
          env: { ...env, FELIX_NATPORTRANGE: '40100:40000' },
          timeoutMs: 20_000,
        },
      );
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /FELIX_NATPORTRANGE: "40100:40000" is not a port range; write FIRST:LAST with 1 <= FIRST <= LAST <= 65535/,
      );
    });

    it('a stored pool that does not decode is skipped; the agent keeps following the others', async () => {
      const key = '/calico/resources/v3/projectcalico.org/ippools/broken';
      // Written under the CLI's feet, as another tool could: raw bytes at a pool key.
      const raw = async (op: 'put' | 'del') => {
        if (etcd) {
          const args = [
            '--endpoints',
            etcd.endpoint,
            op,
            key,
            ...(op === 'put' ? ['{not json'] : []),
          ];
          assert.equal(
            (await execIn(t.node, 'etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' } }))
              .code,
            0,
          );
          return;
        }
        const store = await openDatastore({ type: 'embedded', dataDir: env.CIDRPOOL_DATA_DIR! });
        await (op === 'put' ? store.put(key, '{not json') : store.delete(key));
        await store.close();
      };
      await raw('put');
      await cli(['apply', '-f', '-'], poolYaml(false));
      await waitFor('the masquerade rule to go', async () =>
        (await agentTable(t.node))?.includes('"masquerade": {"flags": "fully-random"}')
          ? undefined
          : true,
      );
      await raw('del');
      await cli(['apply', '-f', '-'], poolYaml(true));
      await waitFor('the masquerade rule to return', async () =>
        (await agentTable(t.node))?.includes('"masquerade": {"flags": "fully-random"}')
          ? true
          : undefined,
      );
      assert.match(
        agent!.log(),
        /WARNING ignoring a stored resource that does not decode key=\/calico\/resources\/v3\/projectcalico.org\/ippools\/broken/,
      );
    });

    it('a table changed by hand is put back at the next event', async () => {
      const good = await agentTable(t.node);
      await sh(t.node, 'nft flush chain ip calico nat-cali-nat-outgoing');
      // Any pool or node event makes the agent compare the kernel's table with the one it derives
      // from the desired state; the label is written after the flush, so that pass sees it.
      await cli(['label', 'ippools', 'excluded', 'touched=yes']);
      await waitFor('the masquerade rule to be restored', async () =>
        (await agentTable(t.node))?.includes('"masquerade": {"flags": "fully-random"}')
          ? true
          : undefined,
      );
      assert.notEqual(await agentTable(t.node), good, 'rewritten: new handles');
      assert.deepEqual(await pingAndCount(t, t.pod, OUTSIDE), { reply: true, moved: ['node-src'] });
    });
  });
}
