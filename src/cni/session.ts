// Opens what a call needs: the datastore and the IPAM engine, both loaded on demand so that a
// call pays only for the backend it uses (no etcd client for the embedded store).
import type { Datastore } from '../datastore/api.js';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { isCidrpoolError } from '../errors/index.js';
import type { Ipam, IpamEnvironment } from '../ipam/types.js';
import type { CallContext } from './context.js';
import { withNodeLock } from './lock.js';

/** An open datastore and the engine over it. */
export interface Session {
  readonly store: Datastore;
  readonly ipam: Ipam;
  /** True when the node agent runs this call over its cache (src/cni/in-agent.ts). */
  readonly viaAgent?: boolean;
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
 * The datastore of one call. etcd goes through its JSON gateway over node:http(s): the gRPC
 * client (`etcd3`) costs ~165 ms to load, more than the whole call otherwise
 * (docs/design/datastore.md, "etcd through the JSON gateway").
 */
async function openCallStore(config: DatastoreConfig): Promise<Datastore> {
  if (config.type === 'etcdv3') {
    const { openEtcdGatewayStore } = await import('../datastore/etcd-gateway/index.js');
    return openEtcdGatewayStore(config);
  }
  const { openDatastore } = await import('../datastore/open.js');
  return openDatastore(config);
}

/**
 * Open the datastore `config` names and create the engine. Throws DS_CONFIG for a bad
 * configuration and DS_UNAVAILABLE when the store cannot be reached.
 */
export async function openSession(config: DatastoreConfig): Promise<Session> {
  // Loaded on demand: VERSION and configuration errors never pay for the engine or a store.
  const [store, ipamModule] = await Promise.all([
    openCallStore(config),
    import('../ipam/index.js'),
  ]);
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

/**
 * The session of one plugin call: the node agent's when the agent runs the call, else the
 * datastore opened here. Throws as openSession (and AGENT_MISMATCH in the agent).
 */
export function openCallSession(ctx: CallContext, config: DatastoreConfig): Promise<Session> {
  return ctx.sessionSource ? ctx.sessionSource(ctx, config) : openSession(config);
}

/**
 * `fn` under the per-node lock file (docs/cni.md), unless the agent runs the call: the agent
 * serialises the engine's calls per node itself, and the lock would only queue its clients.
 */
export function withCallLock<T>(
  session: Session,
  ctx: CallContext,
  config: DatastoreConfig,
  fn: () => Promise<T>,
): Promise<T> {
  return session.viaAgent ? fn() : withNodeLock(ctx, config, fn);
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
