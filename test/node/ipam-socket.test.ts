// The node agent's IPAM socket with the real agent (`bin/cidrpool node run --socket`), the real
// plugin (`bin/cidrpool-ipam`) and a real etcd: the same results with and without the agent,
// the agent killed (SIGKILL) in the middle of a burst, the cache kept right when the CLI and
// another node change pools and blocks behind it, and a late answer undone (one address per handle).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAll } from '../../src/datastore/api.js';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { resourcePrefix } from '../../src/datastore/keys.js';
import { callAgent } from '../../src/cni/agent-call.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { execIn } from '../helpers/netns.js';
import {
  CLI,
  cleanEnv,
  datastoreKeys,
  ipsOfHandle,
  mapConcurrently,
  runPlugin,
  seedStore,
  withStore,
  inUseCount,
  type PluginRun,
} from '../cni/support.js';
import { datastoreEnv, getMetricsPath, startAgent } from './ipam-agent-support.js';

const NODE = 'node-a';
const POOLS = [
  { name: 'pool-a', cidr: '10.65.0.0/16' },
  { name: 'pool-manual', cidr: '10.66.0.0/16', assignmentMode: 'Manual' as const },
];

function netConf(ds: DatastoreConfig, socket: string, extra: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'net1',
    nodename: NODE,
    agent_socket: socket,
    ...datastoreKeys(ds),
    ipam: { type: 'cidrpool-ipam', ...extra },
  };
}

const plain = (ip: string) => ip.split('/')[0]!;
const podArgs = (pod: string) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-1;K8S_POD_NAME=${pod}`;

/** What a call showed the runtime: exit code and stdout (error JSON or result). */
const outcome = (run: PluginRun) => ({ code: run.code, stdout: run.json ?? run.stdout });

/** The stored WorkloadEndpoints, without what differs between any two runs (times, uid). */
async function endpoints(ds: DatastoreConfig): Promise<unknown[]> {
  return withStore(ds, async (store) =>
    (await listAll(store, resourcePrefix('WorkloadEndpoint'))).map((kv) => {
      const wep = JSON.parse(kv.value) as { metadata: Record<string, unknown> };
      delete wep.metadata.creationTimestamp;
      delete wep.metadata.uid;
      delete wep.metadata.resourceVersion;
      return { key: kv.key, wep };
    }),
  );
}

/** ADD, CHECK, explicit IP, errors, DEL: everything the runtime and the datastore saw. */
async function scenario(ds: DatastoreConfig, socket: string): Promise<unknown[]> {
  const seen: unknown[] = [];
  const call = async (command: string, containerId: string, args: string, extra = {}) => {
    const run = await runPlugin({ command, containerId, args, config: netConf(ds, socket, extra) });
    seen.push({ command, containerId, ...outcome(run) });
    return run;
  };
  const added = await call('ADD', 'c1', podArgs('pod-1'));
  seen.push({ handle: await ipsOfHandle(ds, 'net1.c1') });
  seen.push({ endpoints: await endpoints(ds) });
  await runPlugin({
    command: 'CHECK',
    containerId: 'c1',
    args: podArgs('pod-1'),
    config: { ...netConf(ds, socket), prevResult: added.json },
  }).then((run) => seen.push({ check: outcome(run) }));
  await call('ADD', 'c2', `${podArgs('pod-2')};IP=10.66.3.7`);
  await call('ADD', 'c3', `${podArgs('pod-3')};IP=10.66.3.7`); // in use: an error
  await call('ADD', 'c4', podArgs('pod-4'), { ipv4_pools: ['no-such-pool'] }); // an error
  await call('ADD', 'c5', podArgs('pod-5'), { assign_ipv4: 'true', ipv4_pools: ['pool-manual'] });
  seen.push({ handle5: await ipsOfHandle(ds, 'net1.c5') });
  for (const id of ['c1', 'c1', 'c2', 'c5']) await call('DEL', id, podArgs(`pod-${id.slice(1)}`));
  await call('CHECK', 'c1', podArgs('pod-1')); // nothing held any more: an error
  seen.push({ endpointsAfter: await endpoints(ds), inUse: String(await inUseCount(ds)) });
  return seen;
}

/** `cidrpool ipam check` exit code and output. */
async function ipamCheck(ds: DatastoreConfig) {
  return execIn(undefined, CLI, ['ipam', 'check'], {
    env: cleanEnv(datastoreEnv(ds)),
    timeoutMs: 60_000,
  });
}

/** Sum of a counter's samples in Prometheus text whose labels contain `labels`. */
function counterSum(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter(
      (line) =>
        (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('node agent IPAM socket (real agent, plugin and etcd)', () => {
  let etcdA: EtcdCluster;
  let etcdB: EtcdCluster;
  let dsA: DatastoreConfig;
  let dsB: DatastoreConfig;
  let dir: string;
  before(async () => {
    [etcdA, etcdB] = await Promise.all([startEtcd({ members: 1 }), startEtcd({ members: 1 })]);
    dsA = { type: 'etcdv3', endpoints: etcdA.endpoints };
    dsB = { type: 'etcdv3', endpoints: etcdB.endpoints };
    for (const ds of [dsA, dsB]) {
      await withStore(ds, (store) =>
        seedStore(store, { pools: POOLS, nodes: [{ name: NODE }, { name: 'node-b' }] }),
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'cp13-agent-'));
  });
  after(async () => {
    await Promise.all([etcdA?.stop(), etcdB?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the plugin the same results, errors and endpoint writes with and without the agent', async () => {
    const socket = join(dir, 'same.sock');
    const agent = await startAgent(dsA, NODE, socket);
    try {
      assert.equal(statSync(socket).mode & 0o777, 0o600, 'the socket is for root only');
      const through = await scenario(dsA, socket);
      const direct = await scenario(dsB, 'none');
      assert.deepEqual(through, direct);
      const metrics = (await getMetricsPath(agent, '/metrics')).body;
      // The agent answered the calls: 3 successful allocations, errors by code.
      assert.equal(counterSum(metrics, 'cidrpool_ipam_allocations_total', 'result="ok"'), 3);
      assert.ok(
        counterSum(metrics, 'cidrpool_ipam_allocations_total', 'IPAM_ALREADY_ASSIGNED') >= 1,
      );
    } finally {
      await agent.stop();
    }
    assert.equal((await ipamCheck(dsA)).code, 0);
  });

  it('goes to the datastore at once when no agent answers, or one for another node', async () => {
    const run = await runPlugin({
      command: 'ADD',
      containerId: 'lonely',
      config: netConf(dsB, join(dir, 'nobody-here.sock')),
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const other = await startAgent(dsB, 'node-b', join(dir, 'other-node.sock'));
    try {
      const viaOther = await runPlugin({
        command: 'DEL',
        containerId: 'lonely',
        config: netConf(dsB, other.socket),
      });
      assert.equal(viaOther.code, 0, viaOther.stdout);
      const metrics = (await getMetricsPath(other, '/metrics')).body;
      assert.equal(counterSum(metrics, 'cidrpool_ipam_releases_total'), 0, 'node-b served nothing');
    } finally {
      await other.stop();
    }
    assert.deepEqual(await ipsOfHandle(dsB, 'net1.lonely'), []);
  });

  it('takes calls for its etcd cluster by another endpoint list, and refuses another cluster', async () => {
    const agent = await startAgent(dsA, NODE, join(dir, 'cluster.sock'));
    try {
      const served = async () =>
        counterSum(
          (await getMetricsPath(agent, '/metrics')).body,
          'cidrpool_ipam_allocations_total',
          'result="ok"',
        );
      // The same cluster, listed with a member that is down: the agent's cluster ID matches.
      const sameCluster: DatastoreConfig = {
        type: 'etcdv3',
        endpoints: [...etcdA.endpoints, 'http://127.0.0.1:9'],
      };
      const viaAgent = await runPlugin({
        command: 'ADD',
        containerId: 'same-cluster',
        config: netConf(sameCluster, agent.socket),
      });
      assert.equal(viaAgent.code, 0, viaAgent.stdout);
      assert.equal(await served(), 1, 'the agent ran the ADD');
      // Another cluster through the same socket: refused, so the plugin runs it on that cluster.
      const other = await runPlugin({
        command: 'ADD',
        containerId: 'other-cluster',
        config: netConf(dsB, agent.socket),
      });
      assert.equal(other.code, 0, other.stdout);
      assert.equal(await served(), 1, 'the agent ran nothing for another cluster');
      assert.equal((await ipsOfHandle(dsB, 'net1.other-cluster')).length, 1);
      for (const [id, ds] of [
        ['same-cluster', sameCluster],
        ['other-cluster', dsB],
      ] as const) {
        const del = await runPlugin({
          command: 'DEL',
          containerId: id,
          config: netConf(ds, 'none'),
        });
        assert.equal(del.code, 0, del.stdout);
      }
    } finally {
      await agent.stop();
    }
  });

  it('undoes an ADD whose caller timed out, so the retry leaves one address under the handle', async () => {
    const agent = await startAgent(dsA, NODE, join(dir, 'late.sock'));
    try {
      const config = netConf(dsA, agent.socket);
      const env = {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'late',
        CNI_IFNAME: 'eth0',
        CNI_NETNS: '/var/run/netns/none',
        CNI_PATH: '/usr/lib/cni',
        CNI_ARGS: podArgs('pod-late'),
      };
      const impatient = await callAgent(
        agent.socket,
        { env, stdin: JSON.stringify(config) },
        { callMs: 1 },
      );
      assert.deepEqual(impatient, { kind: 'timed-out', timeoutMs: 1 });
      // The retry waits on the agent for the first attempt (same handle) and its undo.
      const call = (command: string) =>
        runPlugin({ command, containerId: 'late', args: podArgs('pod-late'), config });
      const retry = await call('ADD');
      assert.equal(retry.code, 0, retry.stdout);
      const ips = (retry.json!.ips as { address: string }[]).map((ip) => plain(ip.address));
      assert.equal(ips.length, 1);
      assert.deepEqual(await ipsOfHandle(dsA, 'net1.late'), ips);
      const metrics = (await getMetricsPath(agent, '/metrics')).body;
      assert.equal(counterSum(metrics, 'cidrpool_ipam_undone_assignments_total'), 1);
      const del = await call('DEL');
      assert.equal(del.code, 0, del.stdout);
    } finally {
      await agent.stop();
    }
    assert.deepEqual(await ipsOfHandle(dsA, 'net1.late'), []);
    assert.equal((await ipamCheck(dsA)).code, 0);
  });

  it('keeps its cache right when the CLI and another node change pools and blocks behind it', async () => {
    const agent = await startAgent(dsA, NODE, join(dir, 'behind.sock'));
    const conf = (node: string, socket: string, extra = {}) => ({
      ...netConf(dsA, socket, extra),
      nodename: node,
    });
    try {
      const first = await runPlugin({
        command: 'ADD',
        containerId: 'b1',
        config: conf(NODE, agent.socket),
      });
      assert.equal(first.code, 0, first.stdout);
      const firstIp = (first.json!.ips as { address: string }[])[0]!.address.split('/')[0]!;
      // The CLI releases the address behind the agent; node-b (directly) borrows and writes blocks.
      const released = await execIn(undefined, CLI, ['ipam', 'release', '--ip', firstIp], {
        env: cleanEnv(datastoreEnv(dsA)),
        timeoutMs: 60_000,
      });
      assert.equal(released.code, 0, released.stdout + released.stderr);
      for (const id of ['o1', 'o2']) {
        const run = await runPlugin({
          command: 'ADD',
          containerId: id,
          config: conf('node-b', 'none'),
        });
        assert.equal(run.code, 0, run.stdout);
      }
      // A new pool only for a label the node gets, and the old one disabled, through the CLI.
      const manifest = join(dir, 'pool-new.yaml');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        manifest,
        'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pool-new}\nspec: {cidr: 10.67.0.0/16, natOutgoing: false}\n' +
          '---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pool-a}\nspec: {cidr: 10.65.0.0/16, disabled: true, natOutgoing: false}\n',
      );
      const applied = await execIn(undefined, CLI, ['apply', '-f', manifest], {
        env: cleanEnv(datastoreEnv(dsA)),
        timeoutMs: 60_000,
      });
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      // The watch brings the change within a bounded time: poll, never sleep.
      let address = '';
      for (let i = 0; i < 50 && !address.startsWith('10.67.'); i++) {
        const run = await runPlugin({
          command: 'ADD',
          containerId: `n${i}`,
          config: conf(NODE, agent.socket),
        });
        assert.equal(run.code, 0, run.stdout);
        address = (run.json!.ips as { address: string }[])[0]!.address;
        if (!address.startsWith('10.67.')) {
          await runPlugin({
            command: 'DEL',
            containerId: `n${i}`,
            config: conf(NODE, agent.socket),
          });
        }
      }
      assert.match(address, /^10\.67\./, 'the agent allocates from the new pool');
      assert.equal((await ipamCheck(dsA)).code, 0);
    } finally {
      await agent.stop();
    }
  });

  it('falls back when the agent is killed mid-burst: nothing doubled or lost, ipam check clean after DELs', async () => {
    const agent = await startAgent(dsA, NODE, join(dir, 'killed.sock'));
    const ids = Array.from({ length: 24 }, (_, i) => `k${i}`);
    const conf = netConf(dsA, agent.socket);
    let done = 0;
    let killed: Promise<void> | undefined;
    const results = await mapConcurrently(ids, 6, async (id) => {
      // A runtime retries an ADD that failed with "try again later" (CNI code 11); bounded.
      for (let attempt = 0; attempt < 3; attempt++) {
        const run = await runPlugin({ command: 'ADD', containerId: id, config: conf });
        if (++done === 8) killed = agent.kill();
        if (run.code === 0) return run;
        assert.equal((run.json as { code?: number })?.code, 11, run.stdout);
      }
      throw new Error(`ADD ${id} failed three times`);
    });
    await killed;
    const addresses = results.map((r) => plain((r.json!.ips as { address: string }[])[0]!.address));
    assert.equal(new Set(addresses).size, ids.length, 'no address given twice');
    for (const [i, id] of ids.entries()) {
      assert.deepEqual(
        await ipsOfHandle(dsA, `net1.${id}`),
        [addresses[i]],
        `one address for ${id}`,
      );
    }
    await mapConcurrently(ids, 6, async (id) => {
      const run = await runPlugin({ command: 'DEL', containerId: id, config: conf });
      assert.equal(run.code, 0, run.stdout);
    });
    const check = await ipamCheck(dsA);
    assert.equal(check.code, 0, check.stdout);
    for (const id of ids) assert.deepEqual(await ipsOfHandle(dsA, `net1.${id}`), []);
  });
});
