// The CNI node lock never exists without its owner's pid, and an empty lock left by a process
// killed between create and write (or by a full disk) is taken over, not waited on for 90 s:
// the chaos suite found every call on a node timing out behind such a file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireLock } from '../../src/cni/lock.js';
import { isCidrpoolError } from '../../src/errors/index.js';

test('an empty lock file older than a write is stale; a live pid is waited for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp15-lock-'));
  try {
    const path = join(dir, 'ipam-node.lock');
    writeFileSync(path, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const started = Date.now();
    const lock = await acquireLock(path, 3_000);
    assert.ok(lock.acquired);
    assert.ok(Date.now() - started < 2_500, `${Date.now() - started} ms`);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    // Held by a live process (this one): another taker waits, then times out.
    await assert.rejects(acquireLock(path, 200), (e: unknown) =>
      isCidrpoolError(e, 'CNI_LOCK_TIMEOUT'),
    );
    await lock.release();
    const again = await acquireLock(path, 1_000);
    assert.ok(again.acquired);
    await again.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
