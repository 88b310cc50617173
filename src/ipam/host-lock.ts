// Serialising allocations per host: many allocators on one host must not spin on one block.
// In-process, calls for the same host queue behind each other; across processes, an optional
// lock file per host in a directory the caller chooses. Different hosts never wait on each other.
import { join } from 'node:path';
import { CidrpoolError } from '../errors/index.js';
import { acquireLockFile } from './lock-file.js';

/** A per-key promise chain: run(key, fn) starts fn after every earlier fn of the same key. */
export function createKeyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const prev = tails.get(key) ?? Promise.resolve();
      const next = prev.then(fn, fn);
      const tail = next.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return next;
    },
  };
}

/** A file name for a host that is safe on every filesystem. */
const lockName = (host: string): string => `${host.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`;

/**
 * Hold `<dir>/<host>.lock` (lock-file.ts: holds our pid; a dead holder's lock is broken) while
 * fn runs. Waits with short jittered pauses up to timeoutMs, then throws IPAM_LOCK_TIMEOUT; an
 * unwritable dir throws the OS error.
 */
export async function withHostLockFile<T>(
  dir: string,
  host: string,
  timeoutMs: number,
  now: () => number,
  random: () => number,
  fn: () => Promise<T>,
): Promise<T> {
  const path = join(dir, lockName(host));
  const lock = await acquireLockFile(path, {
    waitMs: timeoutMs,
    now,
    pauseMs: (attempt) => 1 + Math.floor(random() * Math.min(50, 2 ** attempt)),
    timeoutError: () =>
      new CidrpoolError(
        'IPAM_LOCK_TIMEOUT',
        `timed out waiting for the IPAM lock of host ${host} (${path})`,
      ),
  });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
