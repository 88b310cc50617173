// The lock file shared by the engine's per-host lock and the CNI node lock (src/ipam/lock-file.ts)
// under real concurrency: processes that all find the same dead holder must still take the lock
// one at a time. The engine's former copy unlinked a dead holder's lock without checking, so a
// second breaker removed the lock the first had just taken and both held it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../helpers/lock-worker.js', import.meta.url));
const DEAD_PID = '2147483646'; // above pid_max: no such process

interface Worker {
  readonly ready: Promise<void>;
  readonly done: Promise<{ code: number | null; out: string }>;
}

function startWorker(dir: string, marker: string, go: string): Worker {
  const child = spawn(process.execPath, [WORKER, dir, marker, go], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  let out = '';
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready')) markReady();
  });
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('close', (code) => {
      markReady();
      resolve({ code, out });
    }),
  );
  return { ready, done };
}

test('processes that find the same dead holder take the lock one at a time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpcl-lock-'));
  try {
    for (let round = 0; round < 2; round++) {
      const lockDir = join(dir, `round-${round}`);
      const go = join(dir, `go-${round}`);
      const marker = join(dir, `inside-${round}`);
      // Every worker starts against a lock left by a dead process.
      const workers = Array.from({ length: 6 }, () => startWorker(lockDir, marker, go));
      await Promise.all(workers.map((w) => w.ready));
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'n.lock'), DEAD_PID);
      writeFileSync(go, '');
      const results = await Promise.all(workers.map((w) => w.done));
      assert.deepEqual(
        results.map((r) => `${r.code} ${r.out.trim().replace(/\s+/g, ' ')}`),
        workers.map(() => '0 ready held'),
        `round ${round}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
