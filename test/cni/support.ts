// Shared pieces of the cidrpool-ipam spawn tests: run the real ./bin/cidrpool-ipam with an
// environment and stdin, and seed a datastore with pools and a node.
import { fileURLToPath } from 'node:url';
import type { Datastore } from '../../src/datastore/api.js';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { resourceKey } from '../../src/datastore/keys.js';
import { openDatastore } from '../../src/datastore/open.js';
import type { Ipam, IpamEnvironment } from '../../src/ipam/types.js';
import { execIn } from '../helpers/netns.js';

/** The repository root (this file runs as dist/test/cni/support.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PLUGIN = `${REPO_ROOT}bin/cidrpool-ipam`;
export const CLI = `${REPO_ROOT}bin/cidrpool`;

/** Every cniVersion the plugin supports that has CHECK. */
export const CHECK_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'];
/** Every cniVersion the plugin supports. */
export const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** Longest a single plugin call may take in a test (kubelet's default CNI timeout is longer). */
export const PLUGIN_TIMEOUT_MS = 30_000;

export interface PluginRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON, or undefined when empty or not JSON. */
  readonly json: Record<string, unknown> | undefined;
  readonly elapsedMs: number;
}

export interface PluginCall {
  readonly command: string;
  readonly containerId?: string;
  readonly ifName?: string;
  readonly netns?: string;
  readonly args?: string;
  /** The network config (an object is JSON-encoded). */
  readonly config: unknown;
  /** Extra variables (e.g. CNI_TEST_NAMESPACE). */
  readonly env?: Record<string, string>;
  /** The program to run (default the plugin). */
  readonly program?: string;
}

/** A clean environment: no NODE_EXTRA_CA_CERTS (it costs ~65 ms per start, ENVIRONMENT.md). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME,
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Spawn the plugin once and collect what it printed. Never throws for a failed call. */
export async function runPlugin(call: PluginCall): Promise<PluginRun> {
  const env = cleanEnv({
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId ?? 'ctr-1',
    CNI_IFNAME: call.ifName ?? 'eth0',
    CNI_NETNS: call.netns ?? '/var/run/netns/none',
    CNI_PATH: '/usr/lib/cni',
    CNI_ARGS: call.args,
    ...call.env,
  });
  const started = performance.now();
  const run = await execIn(undefined, call.program ?? PLUGIN, [], {
    env,
    stdin: typeof call.config === 'string' ? call.config : JSON.stringify(call.config),
    timeoutMs: PLUGIN_TIMEOUT_MS,
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = run.stdout.trim() ? (JSON.parse(run.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { ...run, json, elapsedMs: performance.now() - started };
}

/** Pools and nodes to put in a store before a test. */
export interface Seed {
  readonly pools?: readonly {
    name: string;
    cidr: string;
    blockSize?: number;
    disabled?: boolean;
    nodeSelector?: string;
    namespaceSelector?: string;
    assignmentMode?: 'Automatic' | 'Manual';
  }[];
  readonly nodes?: readonly { name: string; labels?: Record<string, string> }[];
}

/** Write pools and nodes as the resource client stores them (v3 JSON at Calico's keys). */
export async function seedStore(store: Datastore, seed: Seed): Promise<void> {
  for (const p of seed.pools ?? []) {
    const v6 = p.cidr.includes(':');
    await store.put(
      resourceKey('IPPool', p.name),
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name: p.name, creationTimestamp: '2026-01-01T00:00:00Z' },
        spec: {
          cidr: p.cidr,
          blockSize: p.blockSize ?? (v6 ? 122 : 26),
          ipipMode: 'Never',
          vxlanMode: 'Never',
          natOutgoing: false,
          disabled: p.disabled ?? false,
          nodeSelector: p.nodeSelector ?? 'all()',
          ...(p.namespaceSelector ? { namespaceSelector: p.namespaceSelector } : {}),
          allowedUses: ['Workload', 'Tunnel'],
          assignmentMode: p.assignmentMode ?? 'Automatic',
        },
      }),
    );
  }
  for (const n of seed.nodes ?? []) {
    await store.put(
      resourceKey('Node', n.name),
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'Node',
        metadata: {
          name: n.name,
          labels: n.labels ?? {},
          creationTimestamp: '2026-01-01T00:00:00Z',
        },
        spec: { orchRefs: [{ nodeName: n.name, orchestrator: 'k8s' }] },
      }),
    );
  }
}

/** Open a store, run `body`, close it. */
export async function withStore<T>(
  config: DatastoreConfig,
  body: (store: Datastore) => Promise<T>,
): Promise<T> {
  const store = await openDatastore(config);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** The datastore part of a network config for `config`. */
export function datastoreKeys(config: DatastoreConfig): Record<string, unknown> {
  return config.type === 'embedded'
    ? { datastore_type: 'embedded', data_dir: config.dataDir }
    : { datastore_type: 'etcdv3', etcd_endpoints: config.endpoints.join(',') };
}

/** The IPAM engine over `store`, as the plugin creates it. */
export async function createTestIpam(store: Datastore): Promise<Ipam> {
  const { createIpam } = await import('../../src/ipam/index.js');
  return createIpam(store, testIpamEnv);
}

/** The addresses held under a handle, read through the engine itself. */
export async function ipsOfHandle(config: DatastoreConfig, handleId: string): Promise<string[]> {
  return withStore(config, async (store) => {
    try {
      return await (await createTestIpam(store)).ipsByHandle(handleId);
    } catch (err) {
      if ((err as { code?: string }).code === 'IPAM_HANDLE_NOT_FOUND') return [];
      throw err;
    }
  });
}

/** Addresses in use, summed over every block of every pool or of the pools named. */
export async function inUseCount(
  config: DatastoreConfig,
  poolCidrs?: readonly string[],
): Promise<bigint> {
  return withStore(config, async (store) => {
    const ipam = await createTestIpam(store);
    const pools = await ipam.getUtilization(poolCidrs);
    return pools.reduce((sum, p) => sum + p.inUse, 0n);
  });
}

const testIpamEnv: IpamEnvironment = {
  now: () => Date.now(),
  nowNanos: () => BigInt(Date.now()) * 1_000_000n,
  random: () => Math.random(),
};

/** Map `items` with at most `limit` calls of `fn` in flight; results in input order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
