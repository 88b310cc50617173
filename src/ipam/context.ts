// What every IPAM operation shares: the store, the injected environment, retry policy, and the
// small reads every operation starts with (node labels, reservations).
import { listAll, type Datastore, type KeyValue } from '../datastore/api.js';
import { resourceKey, resourcePrefix } from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { IPReservation, Node } from '../resources/types.js';
import { createReservations, type Reservations } from './reservations.js';
import type { Stored } from './block-store.js';
import type { Block } from './model.js';
import type { IpamEnvironment } from './types.js';

export interface IpamContext {
  readonly store: Datastore;
  readonly env: IpamEnvironment;
  /** Bound of every compare-and-swap loop (Calico: 100). */
  readonly retries: number;
  /** `family/blockPrefix` of block indexes known to be built (cached per process). */
  readonly builtIndexes: Set<string>;
  /** Index checks in flight, by the same id: concurrent claims of one engine wait for one. */
  readonly indexChecks: Map<string, Promise<void>>;
  /**
   * Per `type:host:family`, the keys of the blocks the host's last AutoAssign looked at, in
   * order: the next AutoAssign reads them fresh in its first batch (auto-assign.ts). Keys only.
   */
  readonly affineHints: Map<string, readonly string[]>;
  /** Blocks decoded by AutoAssign, by key, each with the revision it was read at. */
  readonly decodedBlocks: Map<string, Stored<Block>>;
  log(level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
}

/** Calico's message when a CAS loop runs out of tries. */
export const MAX_RETRIES_MESSAGE = 'Max retries hit - excessive concurrent IPAM requests';

export const contentionError = (what: string): CidrpoolError =>
  new CidrpoolError('IPAM_CONTENTION', MAX_RETRIES_MESSAGE, { details: { operation: what } });

/**
 * Run `attempt` until it does not throw DS_CONFLICT, at most ctx.retries times, with a short
 * jittered pause growing with the attempt so that racing writers spread out. Other errors pass
 * through. Throws IPAM_CONTENTION after the last try.
 */
export async function retryOnConflict<T>(
  ctx: IpamContext,
  what: string,
  attempt: (i: number) => Promise<T>,
): Promise<T> {
  for (let i = 0; i < ctx.retries; i++) {
    try {
      return await attempt(i);
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT')) throw err;
      ctx.log('debug', `${what}: compare-and-swap conflict, retrying`, { attempt: i });
      await pause(ctx, i);
    }
  }
  throw contentionError(what);
}

/** Back off before retrying a conflict: 0..min(2^i, 32) ms, from the injected randomness. */
export async function pause(ctx: IpamContext, attempt: number): Promise<void> {
  const ms = Math.floor(ctx.env.random() * Math.min(2 ** attempt, 32));
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Labels of the Calico Node; throws IPAM_NODE_NOT_FOUND ("resource does not exist: Node(x)"). */
export async function readNodeLabels(
  ctx: IpamContext,
  host: string,
): Promise<Record<string, string>> {
  return nodeLabelsOf(await ctx.store.get(resourceKey('Node', host)), host);
}

export async function findNode(ctx: IpamContext, host: string): Promise<Node | undefined> {
  return nodeOf(await ctx.store.get(resourceKey('Node', host)));
}

/** A read Node key, decoded (undefined when absent or not JSON). */
export function nodeOf(kv: KeyValue | undefined): Node | undefined {
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as Node;
  } catch {
    return undefined;
  }
}

/** The labels of a read Node key; throws IPAM_NODE_NOT_FOUND as readNodeLabels. */
export function nodeLabelsOf(kv: KeyValue | undefined, host: string): Record<string, string> {
  const node = nodeOf(kv);
  if (!node)
    throw new CidrpoolError('IPAM_NODE_NOT_FOUND', `resource does not exist: Node(${host})`, {
      details: { host },
    });
  return node.metadata.labels ?? {};
}

/** Every reserved CIDR of every IPReservation (one list read). */
export async function readReservations(ctx: IpamContext): Promise<Reservations> {
  return reservationsOf(await listAll(ctx.store, resourcePrefix('IPReservation')));
}

/** The listed IPReservations as one filter. */
export function reservationsOf(items: readonly KeyValue[]): Reservations {
  const entries: string[] = [];
  for (const kv of items) {
    try {
      const r = JSON.parse(kv.value) as IPReservation;
      entries.push(...(r.spec?.reservedCIDRs ?? []));
    } catch {
      // A reservation that does not decode reserves nothing (Calico logs it).
    }
  }
  return createReservations(entries);
}
