// Runs the real agent (`bin/cidrpool node run`) for the IPAM socket tests: a temp socket, metrics
// on a free loopback port, the datastore from the environment. Every agent is stopped (SIGTERM,
// or SIGKILL for crash tests) and awaited by the test that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { CLI, cleanEnv } from '../cni/support.js';

export interface RunningAgent {
  readonly pid: number;
  readonly socket: string;
  /** `127.0.0.1:PORT` of /metrics, /healthz, /readyz. */
  readonly metrics: string;
  /** Everything the agent printed so far. */
  log(): string;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** The environment that makes the CLI and the agent use `config`. */
export function datastoreEnv(config: DatastoreConfig): Record<string, string> {
  return config.type === 'embedded'
    ? { DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: config.dataDir }
    : { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: config.endpoints.join(',') };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Start an agent for `node` on `socket`; resolves once its socket and metrics listen (30 s bound). */
export async function startAgent(
  config: DatastoreConfig,
  node: string,
  socket: string,
): Promise<RunningAgent> {
  const child = spawn(
    CLI,
    [
      'node',
      'run',
      '--name',
      node,
      '--socket',
      socket,
      '--metrics-listen',
      '127.0.0.1:0',
      '--ip',
      'none',
      '--mtu-file',
      'none',
    ],
    { env: cleanEnv(datastoreEnv(config)), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = exited(child);
  const deadline = Date.now() + 30_000;
  let metrics: string | undefined;
  while (Date.now() < deadline) {
    metrics ??= /metrics listening listen=(\S+)/.exec(output)?.[1];
    if (metrics && /IPAM socket listening/.test(output) && existsSync(socket)) break;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!metrics || !existsSync(socket)) {
    child.kill('SIGKILL');
    await done;
    throw new Error(`the agent did not start:\n${output}`);
  }
  const metricsAddress = metrics;
  return {
    pid: child.pid!,
    socket,
    metrics: metricsAddress,
    log: () => output,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
    async kill() {
      child.kill('SIGKILL');
      await done;
    },
  };
}

/** GET a path of the agent's metrics server: status and body. */
export async function getMetricsPath(
  agent: RunningAgent,
  path: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${agent.metrics}${path}`);
  return { status: res.status, body: await res.text() };
}
