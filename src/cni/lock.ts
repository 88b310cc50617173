// A per-node lock file held only around the IPAM call (see docs/cni.md, "Parallel ADDs").
//
// Why: the engine is safe without it (every block write is a compare-and-swap), but ten ADDs on
// one node all want the same affine block, and CAS retries on one hot key cost more than
// queueing (ENVIRONMENT.md: 32 writers on one key manage 55-80 updates/s). Calico takes a
// host-wide flock for the same reason. Node has no flock, so the lock is a file created with
// its owner's pid in it (linked into place); a lock whose owner is dead is taken over. The lock is
// best-effort, like Calico's: when the folder cannot be written the call proceeds unlocked.
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { CidrpoolError } from '../errors/index.js';
import { processAlive } from '../ipam/host-lock.js';
import type { CallContext } from './context.js';

/** Calico allows 90 s for the IPAM work under its lock; we wait at most that long for it. */
const DEFAULT_WAIT_MS = 90_000;
/** A lock file without a pid this old was never going to get one. */
const EMPTY_LOCK_MS = 5_000;

/** True when the file at `path` was last changed more than `ms` ago. */
function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

/** A held lock; `release` is idempotent. */
export interface HeldLock {
  readonly path: string;
  readonly acquired: boolean;
  release(): Promise<void>;
}

// The file operations are synchronous: each is one short system call, and a call of the plugin
// has nothing else to do meanwhile (fs/promises would add its module and a thread-pool round
// trip per operation to every ADD and DEL).
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

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Remove a lock whose owner died; if another process re-took it meanwhile, put theirs back. */
function breakStaleLock(path: string, staleContent: string): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = readOr(aside, '');
  if (moved !== staleContent) ignoreErrors(() => linkSync(aside, path));
  ignoreErrors(() => unlinkSync(aside));
}

/**
 * Take the lock file at `path`, waiting (with a short backoff) while a live process holds it.
 * Returns an unacquired lock when the folder cannot be written (best-effort). Throws
 * CNI_LOCK_TIMEOUT after `waitMs`.
 */
export async function acquireLock(path: string, waitMs = DEFAULT_WAIT_MS): Promise<HeldLock> {
  const content = `${process.pid}\n`;
  const deadline = Date.now() + waitMs;
  let pause = 1;
  let madeDir = false;
  for (;;) {
    // The lock appears with its pid already in it: written to a file of our own, then linked
    // into place (link fails if the lock exists). Created empty and written after, a kill -9 or
    // a full disk between the two left an empty lock that no one could tell from one being
    // written, and every later call on the node waited out its deadline (found by the chaos
    // suite, docs/reliability.md).
    const mine = `${path}.${process.pid}.new`;
    try {
      writeFileSync(mine, content, { mode: 0o600 });
      try {
        linkSync(mine, path);
      } finally {
        ignoreErrors(() => unlinkSync(mine));
      }
      let released = false;
      return {
        path,
        acquired: true,
        async release() {
          if (released) return;
          released = true;
          if (readOr(path, '') === content) ignoreErrors(() => unlinkSync(path));
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !madeDir) {
        madeDir = true;
        ignoreErrors(() => mkdirSync(dirname(path), { recursive: true, mode: 0o700 }));
        continue;
      }
      if (code !== 'EEXIST') return { path, acquired: false, release: async () => undefined };
    }
    const holder = readOr(path, undefined);
    const pid = holder ? Number.parseInt(holder, 10) : NaN;
    // A lock names a live pid, or it is stale: a dead pid, or (left by an older version that
    // created the file before writing it) no pid at all for longer than a write can take.
    const deadOwner = Number.isInteger(pid) && pid > 0 && !processAlive(pid);
    if (holder !== undefined && (deadOwner || (!(pid > 0) && olderThan(path, EMPTY_LOCK_MS)))) {
      breakStaleLock(path, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new CidrpoolError(
        'CNI_LOCK_TIMEOUT',
        `timed out after ${waitMs} ms waiting for the IPAM lock ${path} (held by pid ${holder?.trim() || '?'})`,
        {
          details: {
            hint: 'another cidrpool-ipam call on this node is stuck; the kubelet will retry',
          },
        },
      );
    }
    await delay(pause);
    pause = Math.min(pause * 2, 20);
  }
}

/**
 * Where the node's lock lives: `ipam_lock_file` when set; for the embedded store a file per
 * node in its data folder (processes sharing a store share the lock); for etcd a file per node
 * under the temp folder (one machine is one node, except in tests that fake several).
 */
export function lockPathOf(options: {
  readonly lockFile?: string;
  readonly dataDir?: string;
  readonly node: string;
  readonly tmpDir: string;
}): string {
  if (options.lockFile) return options.lockFile;
  const file = `ipam-${options.node.replace(/[^a-zA-Z0-9_.-]/g, '_')}.lock`;
  return options.dataDir
    ? join(options.dataDir, 'locks', file)
    : join(options.tmpDir, 'cidrpool-ipam', file);
}

/**
 * Run `work` holding the node's IPAM lock (see lockPathOf), released however `work` ends. ADD and
 * DEL hold it only around their IPAM calls.
 */
export async function withNodeLock<T>(
  ctx: CallContext,
  store: DatastoreConfig,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(
    lockPathOf({
      lockFile: ctx.conf.ipamLockFile,
      dataDir: store.type === 'embedded' ? store.dataDir : undefined,
      node: ctx.node,
      tmpDir: tmpdir(),
    }),
  );
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
