// The IPAM engine: createIpam(store, env) wires the operations of the modules beside this one.
import type { Datastore } from '../datastore/api.js';
import { releaseAffinity, releaseHostAffinities, releasePoolAffinities } from './affinity.js';
import { assignIp } from './assign-ip.js';
import { autoAssignRequest } from './assign-request.js';
import { WINDOWS_RESERVED_HANDLE, WINDOWS_RESERVED_NOTE, type HostReservedAttr } from './block.js';
import { readConfig } from './block-store.js';
import { checkIpam } from './check.js';
import { setConfig } from './config.js';
import type { IpamContext } from './context.js';
import { createKeyedQueue, withHostLockFile } from './host-lock.js';
import { getAssignmentAttributes, ipsByHandle, releaseByHandle, releaseIps } from './release.js';
import type { HostReservedAttrSpec, Ipam, IpamEnvironment, IpamOptions } from './types.js';
import { getUtilization, listBorrowed } from './utilization.js';

export * from './types.js';
export { resolveAnnotations } from './annotations.js';
export type { ResolvedAnnotations, AnnotationInput } from './annotations.js';
export { DEFAULT_MAX_BLOCKS_PER_HOST } from './auto-assign.js';
export { shortfallMessage } from './shortfall.js';

/** Real clock and randomness; the default when the caller injects nothing. */
export const systemEnvironment: IpamEnvironment = {
  now: () => Date.now(),
  nowNanos: () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n),
  random: () => Math.random(),
};

/**
 * The clock and randomness of a process that allocates for a while (the CLI, the node agent):
 * nanoseconds from the epoch at start plus a monotonic clock, so they never go backwards, and
 * crypto-quality randomness for the host-seeded block search; `log` receives the engine's log.
 */
export function createProcessEnvironment(log?: IpamEnvironment['log']): IpamEnvironment {
  // Loaded here, not at start-up: the CNI plugin bundles this module and uses systemEnvironment.
  const { randomInt } = process.getBuiltinModule('node:crypto');
  const start = process.hrtime.bigint();
  const epochNanos = BigInt(Date.now()) * 1_000_000n;
  return {
    now: () => Date.now(),
    nowNanos: () => epochNanos + (process.hrtime.bigint() - start),
    random: () => randomInt(0, 2 ** 48 - 1) / 2 ** 48,
    ...(log ? { log } : {}),
  };
}

const toReserved = (spec?: HostReservedAttrSpec): HostReservedAttr | undefined =>
  spec && (spec.startOfBlock > 0 || spec.endOfBlock > 0)
    ? {
        startOfBlock: spec.startOfBlock,
        endOfBlock: spec.endOfBlock,
        handle: spec.handle ?? WINDOWS_RESERVED_HANDLE,
        note: spec.note ?? WINDOWS_RESERVED_NOTE,
      }
    : undefined;

/**
 * Create the IPAM engine over a datastore. `env` overrides the clock, randomness and logger;
 * the options add a lock directory for per-host lock files and the retry bound (IpamOptions).
 */
export function createIpam(
  store: Datastore,
  env: Partial<IpamEnvironment> & IpamOptions = {},
): Ipam {
  const environment: IpamEnvironment = {
    now: env.now ?? systemEnvironment.now,
    nowNanos: env.nowNanos ?? systemEnvironment.nowNanos,
    random: env.random ?? systemEnvironment.random,
    ...(env.log ? { log: env.log } : {}),
  };
  const ctx: IpamContext = {
    store,
    env: environment,
    retries: env.retries ?? 100,
    builtIndexes: new Set(),
    indexChecks: new Map(),
    affineHints: new Map(),
    decodedBlocks: new Map(),
    log: (level, message, fields) => environment.log?.(level, message, fields),
  };
  const queue = createKeyedQueue();
  const perHost = <T>(host: string, fn: () => Promise<T>): Promise<T> =>
    queue.run(host, () =>
      env.lockDir
        ? withHostLockFile(
            env.lockDir,
            host,
            env.lockTimeoutMs ?? 90_000,
            environment.now,
            environment.random,
            fn,
          )
        : fn(),
    );

  return {
    autoAssign: (request) =>
      perHost(request.hostname, () =>
        autoAssignRequest(ctx, request, {
          ipv4: toReserved(request.hostReservedAttrIPv4s),
          ipv6: toReserved(request.hostReservedAttrIPv6s),
        }),
      ),
    assignIp: (request) => perHost(request.hostname, () => assignIp(ctx, request)),
    releaseIps: (options) => releaseIps(ctx, options),
    releaseByHandle: (handleId) => releaseByHandle(ctx, handleId),
    ipsByHandle: (handleId) => ipsByHandle(ctx, handleId),
    getAssignmentAttributes: (ip) => getAssignmentAttributes(ctx, ip),
    releaseAffinity: (cidr, host, mustBeEmpty) => releaseAffinity(ctx, cidr, host, mustBeEmpty),
    releaseHostAffinities: (host, mustBeEmpty) => releaseHostAffinities(ctx, host, mustBeEmpty),
    releasePoolAffinities: (poolCidr) => releasePoolAffinities(ctx, poolCidr),
    getUtilization: (pools) => getUtilization(ctx, pools),
    listBorrowed: () => listBorrowed(ctx),
    getConfig: () => readConfig(store),
    setConfig: (config) => setConfig(ctx, config),
    check: () => checkIpam(ctx),
  };
}
