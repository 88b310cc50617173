// Opens what a call needs: the datastore and the IPAM engine, both loaded on demand so that a
// call pays only for the backend it uses (no etcd client for the embedded store).
import type { Datastore } from '../datastore/api.js';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { isCidrpoolError } from '../errors/index.js';
import type { Ipam, IpamEnvironment } from '../ipam/types.js';

/** An open datastore and the engine over it. */
export interface Session {
  readonly store: Datastore;
  readonly ipam: Ipam;
  close(): Promise<void>;
}

// The wall clock once, then the monotonic clock from there: `performance` would load eight
// perf_hooks modules (~0.6 ms) on first use, and the process lives for one call.
const originMs = Date.now();
const originHr = process.hrtime.bigint();

/** Nanoseconds since the epoch, finer than Date.now() (monotonic within the process). */
export function epochNanos(): bigint {
  return BigInt(originMs) * 1_000_000n + (process.hrtime.bigint() - originHr);
}

/** The clock and randomness the engine is given (injected so tests of the engine can fix them). */
export const systemEnvironment: IpamEnvironment = {
  now: () => Date.now(),
  nowNanos: epochNanos,
  random: () => Math.random(),
};

/**
 * Open the datastore `config` names and create the engine. Throws DS_CONFIG for a bad
 * configuration and DS_UNAVAILABLE when the store cannot be reached.
 */
export async function openSession(config: DatastoreConfig): Promise<Session> {
  // Loaded on demand: VERSION and configuration errors never pay for the engine or a store.
  const [{ openDatastore }, ipamModule] = await Promise.all([
    import('../datastore/open.js'),
    import('../ipam/index.js'),
  ]);
  const store = await openDatastore(config);
  try {
    const ipam = ipamModule.createIpam(store, systemEnvironment);
    return {
      store,
      ipam,
      close: () => store.close(),
    };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

const isNotFound = (err: unknown): boolean =>
  isCidrpoolError(err) && err.spec.category === 'not-found';

/**
 * Release everything recorded under the handle and return the addresses released. A handle that
 * does not exist holds nothing: that is no error here (Calico ignores it too). Throws the
 * engine's other errors (DS_UNAVAILABLE, IPAM_*).
 */
export async function releaseIfPresent(session: Session, handleId: string): Promise<string[]> {
  try {
    return await session.ipam.releaseByHandle(handleId);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** The addresses under a handle; a handle that does not exist holds none. */
export async function heldAddresses(session: Session, handleId: string): Promise<string[]> {
  try {
    return await session.ipam.ipsByHandle(handleId);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
