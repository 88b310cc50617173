// A lock file between processes of one machine, named by its holder's pid. Node has no flock, so
// the lock is a file that appears with the pid already in it (written to a file of our own, then
// linked into place: link fails if the lock exists). A lock whose holder is dead is broken by one
// taker at a time, so two takers that both find the same dead holder cannot both take it.
// Used by the engine's per-host lock (host-lock.ts, `lockDir`) and the CNI node lock (cni/lock.ts).
//
// The file operations are synchronous: each is one short system call, and the short-lived CNI
// plugin has nothing else to do meanwhile (fs/promises would add its module and a thread-pool
// round trip per operation to every ADD and DEL).
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CidrpoolError } from '../errors/index.js';

/** A lock file without a pid this old was never going to get one (left by an older version). */
const EMPTY_LOCK_MS = 5_000;

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface LockFileOptions {
  /** How long to wait for a live holder. */
  readonly waitMs: number;
  /** The error thrown after waitMs; `holder` is the lock's text (its pid) when it could be read. */
  readonly timeoutError: (holder: string | undefined) => CidrpoolError;
  /** The pause before attempt `attempt` + 1; default 1, 2, 4 ... 20 ms. */
  readonly pauseMs?: (attempt: number) => number;
  /** The clock of the deadline; default Date.now. */
  readonly now?: () => number;
}

/** A held lock file; `release` is idempotent and removes only a lock that is still ours. */
export interface LockFile {
  readonly path: string;
  release(): void;
}

/** Numbers the temporary files of lock attempts: several takers of one process may race. */
let attemptSerial = 0;

function readOr<T>(path: string, fallback: T): string | T {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function ignoreErrors(operation: () => unknown): void {
  try {
    operation();
  } catch {
    // best effort, as documented where it is used
  }
}

/** True when the file at `path` was last changed more than `ms` ago. */
function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

/** Try once to create the lock; true when taken, false when it exists. Throws other OS errors. */
function tryCreate(path: string, content: string): boolean {
  const mine = `${path}.${process.pid}.${++attemptSerial}.new`;
  writeFileSync(mine, content, { mode: 0o600 });
  try {
    linkSync(mine, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    ignoreErrors(() => unlinkSync(mine));
  }
}

/** Whether the lock text `holder` names a dead process, or no pid for longer than a write takes. */
function isStale(path: string, holder: string): boolean {
  const pid = Number.parseInt(holder, 10);
  if (Number.isInteger(pid) && pid > 0) return !processAlive(pid);
  return olderThan(path, EMPTY_LOCK_MS);
}

/**
 * Remove the lock whose dead holder wrote `staleContent`; returns false when another taker is
 * breaking it at this moment. Breakers take turns on `<path>.break`, and the lock is removed
 * only if it still holds the stale text: without the turn, two takers that both found the dead
 * holder could each remove the lock and the second would remove the lock the first just took.
 * A `.break` left by a breaker killed in those few system calls is itself stale and removed.
 */
function breakStaleLock(path: string, staleContent: string): boolean {
  const turn = `${path}.break`;
  let mine: boolean;
  try {
    mine = tryCreate(turn, `${process.pid}\n`);
  } catch {
    return false;
  }
  if (!mine) {
    const breaker = readOr(turn, undefined);
    if (breaker !== undefined && isStale(turn, breaker)) ignoreErrors(() => unlinkSync(turn));
    return false;
  }
  try {
    if (readOr(path, undefined) === staleContent) ignoreErrors(() => unlinkSync(path));
  } finally {
    ignoreErrors(() => unlinkSync(turn));
  }
  return true;
}

/**
 * Take the lock file at `path` (its folder is made when missing), waiting with short pauses
 * while a live process holds it. Returns the held lock. Throws `timeoutError(holder)` after
 * waitMs, and the OS error (EACCES, EROFS, ...) when the lock cannot be created at all.
 */
export async function acquireLockFile(path: string, options: LockFileOptions): Promise<LockFile> {
  const now = options.now ?? Date.now;
  const pauseMs = options.pauseMs ?? ((attempt: number) => Math.min(2 ** attempt, 20));
  const content = `${process.pid}\n`;
  const deadline = now() + options.waitMs;
  let madeDir = false;
  for (let attempt = 0; ; attempt++) {
    let taken: boolean;
    try {
      taken = tryCreate(path, content);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || madeDir) throw err;
      madeDir = true;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      continue;
    }
    if (taken) {
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          if (readOr(path, '') === content) ignoreErrors(() => unlinkSync(path));
        },
      };
    }
    const holder = readOr(path, undefined);
    if (holder === undefined) continue; // released meanwhile
    if (isStale(path, holder) && breakStaleLock(path, holder)) continue;
    if (now() >= deadline) throw options.timeoutError(holder);
    await new Promise((resolve) => setTimeout(resolve, pauseMs(attempt)));
  }
}
