// A single etcd member inside a network namespace the test created, listening on that
// namespace's loopback: reachable by every process the test runs in the namespace (agents, CLI),
// and by nothing else. Data on tmpfs, fast raft timing (ENVIRONMENT.md). stop() SIGKILLs it and
// waits for the exit.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureEtcdInstalled } from './etcd-cluster.js';
import { execIn } from './netns.js';

export interface NetnsEtcd {
  /** `http://127.0.0.1:<port>`, valid inside the namespace. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Start etcd in `netns` on 127.0.0.1:`port` and wait (at most 20 s) until it is healthy. */
export async function startEtcdInNetns(netns: string, port = 2379): Promise<NetnsEtcd> {
  ensureEtcdInstalled();
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cp-etcd-'));
  const endpoint = `http://127.0.0.1:${port}`;
  // prettier-ignore
  const child = spawn('ip', [
    'netns', 'exec', netns, 'etcd',
    '--data-dir', dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${port + 1}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1}`,
    '--initial-cluster', `default=http://127.0.0.1:${port + 1}`,
    '--heartbeat-interval', '10',
    '--election-timeout', '100',
    '--logger', 'zap',
    '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGKILL'); // `ip netns exec` execs etcd: this pid is etcd itself
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const health = await execIn(netns, 'etcdctl', ['--endpoints', endpoint, 'endpoint', 'health'], {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeoutMs: 5_000,
    });
    if (health.code === 0) return { endpoint, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd in ${netns} did not become healthy:\n${output}${health.stderr}`);
    }
    await delay(50); // between polls, bounded by the deadline
  }
}
