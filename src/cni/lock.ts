// A per-node lock file held only around the IPAM call (see docs/cni.md, "Parallel ADDs").
//
// Why: the engine is safe without it (every block write is a compare-and-swap), but ten ADDs on
// one node all want the same affine block, and CAS retries on one hot key cost more than
// queueing (ENVIRONMENT.md: 32 writers on one key manage 55-80 updates/s). Calico takes a
// host-wide flock for the same reason. The lock is src/ipam/lock-file.ts's (a file holding its
// owner's pid; a dead owner's lock is taken over). It is best-effort, like Calico's: when the
// folder cannot be written the call proceeds unlocked.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { acquireLockFile } from '../ipam/lock-file.js';
import type { CallContext } from './context.js';

/** Calico allows 90 s for the IPAM work under its lock; we wait at most that long for it. */
const DEFAULT_WAIT_MS = 90_000;

/** A held lock; `release` is idempotent. */
export interface HeldLock {
  readonly path: string;
  readonly acquired: boolean;
  release(): Promise<void>;
}

/**
 * Take the lock file at `path` (src/ipam/lock-file.ts), waiting while a live process holds it.
 * Returns an unacquired lock when the folder cannot be written (best-effort). Throws
 * CNI_LOCK_TIMEOUT after `waitMs`.
 */
export async function acquireLock(path: string, waitMs = DEFAULT_WAIT_MS): Promise<HeldLock> {
  try {
    const lock = await acquireLockFile(path, {
      waitMs,
      timeoutError: (holder) =>
        new CidrpoolError(
          'CNI_LOCK_TIMEOUT',
          `timed out after ${waitMs} ms waiting for the IPAM lock ${path} (held by pid ${holder?.trim() || '?'})`,
          {
            details: {
              hint: 'another cidrpool-ipam call on this node is stuck; the kubelet will retry',
            },
          },
        ),
    });
    return { path, acquired: true, release: async () => lock.release() };
  } catch (err) {
    if (isCidrpoolError(err)) throw err;
    return { path, acquired: false, release: async () => undefined };
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
