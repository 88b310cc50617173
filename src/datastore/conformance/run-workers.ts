// Part of the conformance suite: run CAS increments from several OS processes at once
// (test/helpers/store-worker.ts, compiled to dist/test/helpers/store-worker.js).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DatastoreConfig } from '../config-types.js';

/** The compiled worker process (test/helpers/store-worker.ts). */
const WORKER = fileURLToPath(new URL('../../../test/helpers/store-worker.js', import.meta.url));

export interface WorkerResult {
  revisions: string[];
  retries: number;
}

/** Start `count` worker processes, release them at once, and gather their results. */
export async function runWorkers(
  config: DatastoreConfig,
  count: number,
  job: { prefix: string; counters: number; iterations: number },
): Promise<WorkerResult[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [WORKER, JSON.stringify(job)], {
      env: { ...process.env, CIDRPOOL_STORE_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) onReady();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<WorkerResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        onReady(); // a worker that died before `ready` must not block the others
        if (code !== 0) reject(new Error(`store worker exited with ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout.slice('ready\n'.length)) as WorkerResult);
      });
    });
    return { ready, exited };
  });
  try {
    await Promise.all(outputs.map((output) => output.ready));
    for (const child of children) child.stdin.end('go\n');
    return await Promise.all(outputs.map((output) => output.exited));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}
