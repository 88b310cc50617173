// The agent's metrics and health with a real Prometheus (Debian `prometheus`, on loopback, in a
// temp folder, started and stopped here) scraping the real agent after a burst of real plugin
// calls on a real etcd; the example alert rules pass `promtool check rules`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { agentMetrics, recordReconcile } from '../../src/node/metrics.js';
import { parseListen } from '../../src/node/metrics-service.js';
import { findFreePort, startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';
import {
  REPO_ROOT,
  datastoreKeys,
  mapConcurrently,
  runPlugin,
  seedStore,
  withStore,
} from '../cni/support.js';
import { getMetricsPath, startAgent } from './ipam-agent-support.js';

const RULES = join(REPO_ROOT, 'examples', 'prometheus', 'cidrpool-alerts.yaml');

/** One instant query against Prometheus' HTTP API: the samples' values. */
async function query(base: string, expr: string): Promise<number[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  return (body.data?.result ?? []).map((r) => Number(r.value[1]));
}

/** Poll `expr` until `ok` holds for its values (bounded); returns the last values. */
async function waitFor(base: string, expr: string, ok: (values: number[]) => boolean) {
  let values: number[] = [];
  for (const deadline = Date.now() + 45_000; Date.now() < deadline;) {
    values = await query(base, expr).catch(() => []);
    if (ok(values)) return values;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${expr}: ${JSON.stringify(values)} after 45 s`);
}

describe('agent metrics and health', () => {
  it('ships alert rules that promtool accepts', () => {
    const run = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /SUCCESS: 5 rules found/);
  });

  it('reads --metrics-listen as ADDR:PORT and names the flag otherwise', () => {
    assert.deepEqual(parseListen('127.0.0.1:9094'), { host: '127.0.0.1', port: 9094 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseListen('localhost'), /--metrics-listen: "localhost" is not ADDR:PORT/);
    assert.throws(() => parseListen('1.2.3.4:70000'), { code: 'CLI_USAGE' });
  });

  it('counts the dataplane reconciles given to its hook', async () => {
    recordReconcile('ok');
    recordReconcile('error');
    const text = await agentMetrics().registry.metrics();
    assert.match(text, /cidrpool_dataplane_reconciles_total\{result="ok"\} 1/);
    assert.match(text, /cidrpool_dataplane_reconciles_total\{result="error"\} 1/);
  });

  describe('a real Prometheus scraping the agent', () => {
    let etcd: EtcdCluster;
    let ds: DatastoreConfig;
    let dir: string;
    before(async () => {
      etcd = await startEtcd({ members: 1 });
      ds = { type: 'etcdv3', endpoints: etcd.endpoints };
      await withStore(ds, (store) =>
        seedStore(store, {
          pools: [{ name: 'pool-a', cidr: '10.65.0.0/16' }],
          nodes: [{ name: 'node-m' }],
        }),
      );
      dir = mkdtempSync(join(tmpdir(), 'cp13-prom-'));
    });
    after(async () => {
      await etcd?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves /healthz, /readyz and /metrics; Prometheus has the series after a burst', async () => {
      const agent = await startAgent(ds, 'node-m', join(dir, 'ipam.sock'));
      const promPort = await findFreePort();
      const config = join(dir, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global: {scrape_interval: 1s, evaluation_interval: 1s}',
          `rule_files: ['${RULES}']`,
          'scrape_configs:',
          '  - job_name: cidrpool-agent',
          `    static_configs: [{targets: ['${agent.metrics}']}]`,
          '',
        ].join('\n'),
      );
      const prometheus = spawn(
        '/usr/bin/prometheus',
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      const base = `http://127.0.0.1:${promPort}`;
      try {
        assert.deepEqual(await getMetricsPath(agent, '/healthz'), { status: 200, body: 'ok\n' });
        assert.deepEqual(await getMetricsPath(agent, '/readyz'), { status: 200, body: 'ready\n' });
        assert.equal((await getMetricsPath(agent, '/nope')).status, 404);

        const conf = {
          cniVersion: '1.0.0',
          name: 'net1',
          nodename: 'node-m',
          agent_socket: agent.socket,
          ...datastoreKeys(ds),
          ipam: { type: 'cidrpool-ipam' },
        };
        const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
        await mapConcurrently(ids, 4, async (id) => {
          const run = await runPlugin({ command: 'ADD', containerId: id, config: conf });
          assert.equal(run.code, 0, run.stdout);
        });
        const bad = await runPlugin({
          command: 'ADD',
          containerId: 'bad',
          config: { ...conf, ipam: { type: 'cidrpool-ipam', ipv4_pools: ['10.99.0.0/16'] } },
        });
        assert.notEqual(bad.code, 0);

        await waitFor(base, 'up{job="cidrpool-agent"}', (v) => v[0] === 1);
        await waitFor(
          base,
          'sum(cidrpool_ipam_allocations_total{result="ok"})',
          (v) => v[0] === 12,
        );
        await waitFor(
          base,
          'sum(cidrpool_ipam_allocations_total{result="error"})',
          (v) => v[0] === 1,
        );
        await waitFor(
          base,
          'cidrpool_ipam_pool_addresses_total{pool="pool-a"}',
          (v) => v[0] === 65536,
        );
        await waitFor(
          base,
          'cidrpool_ipam_pool_addresses_in_use{pool="pool-a"}',
          (v) => v[0] === 12,
        );
        await waitFor(base, 'cidrpool_ipam_node_blocks', (v) => v[0] === 1);
        await waitFor(base, 'cidrpool_ipam_cache_ready', (v) => v[0] === 1);
        await waitFor(
          base,
          'sum(cidrpool_ipam_socket_request_duration_seconds_count{operation="ADD"})',
          (v) => v[0] === 13,
        );
        await waitFor(
          base,
          'sum(cidrpool_datastore_round_trips_total{kind="write"})',
          (v) => v[0]! >= 12,
        );
        await waitFor(base, 'cidrpool_ipam_borrowed_addresses', (v) => v[0] === 0);
      } finally {
        prometheus.kill('SIGTERM');
        const timer = setTimeout(() => prometheus.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        await agent.stop();
      }
    });
  });
});
