// Serialising allocations per host: many allocators on one host must not spin on one block.
// In-process, calls for the same host queue behind each other; across processes, an optional
// lock file per host in a directory the caller chooses. Different hosts never wait on each other.
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CidrpoolError } from '../errors/index.js';

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

/** Numbers the temporary files of lock attempts made by this process. */
let attemptSerial = 0;

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A file name for a host that is safe on every filesystem. */
const lockName = (host: string): string => `${host.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`;

/**
 * Hold `<dir>/<host>.lock` (created exclusively, holding our pid) while fn runs. A lock whose
 * pid is dead is broken. Waits with short jittered pauses up to timeoutMs, then throws
 * IPAM_LOCK_TIMEOUT.
 */
export async function withHostLockFile<T>(
  dir: string,
  host: string,
  timeoutMs: number,
  now: () => number,
  random: () => number,
  fn: () => Promise<T>,
): Promise<T> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, lockName(host));
  const deadline = now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    // Written to a file of our own, then linked into place: the lock never exists without its
    // pid (a kill between create and write would leave a lock no one could break).
    // Named per attempt, not only per process: several engines of one process may race here.
    const mine = `${path}.${process.pid}.${++attemptSerial}.new`;
    try {
      await writeFile(mine, String(process.pid));
      try {
        await link(mine, path);
      } finally {
        await unlink(mine).catch(() => undefined);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (now() > deadline)
        throw new CidrpoolError(
          'IPAM_LOCK_TIMEOUT',
          `timed out waiting for the IPAM lock of host ${host} (${path})`,
        );
      await new Promise((r) =>
        setTimeout(r, 1 + Math.floor(random() * Math.min(50, 2 ** attempt))),
      );
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
