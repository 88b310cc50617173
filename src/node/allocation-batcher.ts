// Batched allocation for the agent's IPAM socket: CNI ADDs that arrive while an allocation is
// being written join the next write. They are given consecutive addresses of the block the
// previous allocation used and written with one compare-and-swap transaction (the block and
// every new handle), so a burst of N pods costs about one transaction, not N.
//
// Only CNI-shaped requests are batched (one IPv4 address, a handle, the Workload use, this node,
// no per-request block limit or reserved ordinals); everything else, and every batch the block
// cannot take whole or whose write fails, goes through the engine one request at a time. The
// block's pool must still be eligible for the request (determinePools on the cached pools,
// Node and namespace labels), so a batch never gives an address the engine would not.
import { readAll, type Datastore } from '../datastore/api.js';
import {
  IPAM_CONFIG_KEY,
  blockKey,
  handleKey,
  resourceKey,
  resourcePrefix,
} from '../datastore/keys.js';
import {
  assignFromBlock,
  cleanHandle,
  garbageCollect,
  ipWithMask,
  isEmpty,
  ordinalToIp,
  releaseHandleFromBlock,
} from '../ipam/block.js';
import { blockOf, configOf, handleOf, writeBlock, type Stored } from '../ipam/block-store.js';
import type { HandleValue } from '../ipam/model.js';
import { nodeLabelsOf, reservationsOf } from '../ipam/context.js';
import { determinePools, findPoolOfBlock, poolsOf } from '../ipam/pools.js';
import type { AutoAssignRequest, AutoAssignResult, Ipam } from '../ipam/types.js';
import { formatCidr, formatIp, parseCidr, parseCidrMasked } from '../net/index.js';

interface Waiting {
  readonly request: AutoAssignRequest;
  resolve(result: AutoAssignResult): void;
  reject(err: unknown): void;
}

/** What a batch reports (metrics). */
export interface BatchEvents {
  /** Allocations answered by one write: a batch's size, or 1 through the engine. */
  onBatch?(size: number): void;
  /** Handles released by one write of a release batch. */
  onReleaseBatch?(size: number): void;
}

/** The requests a batch may carry: what the CNI plugin sends for one IPv4 address. */
export function isBatchable(r: AutoAssignRequest, node: string): boolean {
  return (
    r.num4 === 1 &&
    r.num6 === 0 &&
    r.handleId !== undefined &&
    r.intendedUse === 'Workload' &&
    r.hostname === node &&
    !r.maxBlocksPerHost &&
    !r.hostReservedAttrIPv4s &&
    !r.hostReservedAttrIPv6s
  );
}

/** Requests that may share a block: the same requested pools and namespace labels. */
const eligibilityKey = (r: AutoAssignRequest) =>
  JSON.stringify([r.ipv4Pools ?? [], r.namespace?.labels ?? {}]);

const resultOf = (ip: string): AutoAssignResult => ({
  ipv4: { family: 4, ips: [ip], numRequested: 1, messages: [] },
  ipv6: { family: 6, ips: [], numRequested: 0, messages: [] },
});

/** `10.0.0.5/26` -> the block `10.0.0.0/26` (the engine returns addresses with the block mask). */
const blockOfAddress = (ipWithBlockMask: string): string =>
  formatCidr(parseCidrMasked(ipWithBlockMask));

/**
 * `autoAssign` with batching for `node`: `store` is the agent's cached store (its reads answer
 * from memory), `ipam` the engine over it. Returns the engine's result for every request.
 */
export function createAllocationBatcher(
  store: Datastore,
  ipam: Ipam,
  node: string,
  now: () => number,
  events: BatchEvents = {},
) {
  const waiting = new Map<string, Waiting[]>();
  const busy = new Set<string>();
  /** Per eligibility key, the block the last allocation came from. */
  const lastBlock = new Map<string, string>();

  async function viaEngine(w: Waiting, key: string): Promise<void> {
    try {
      const result = await ipam.autoAssign(w.request);
      const ip = result.ipv4.ips[0];
      if (ip !== undefined) {
        lastBlock.set(key, blockOfAddress(ip));
        events.onBatch?.(1);
      }
      w.resolve(result);
    } catch (err) {
      w.reject(err);
    }
  }

  /** Assign one address to each of `batch` in `cidr` with one write; returns who got none. */
  async function tryBatch(batch: Waiting[], cidr: string): Promise<Waiting[]> {
    const first = batch[0]!.request;
    const [configKv, reservationItems, poolItems, nodeItems, blockItems] = await readAll(store, [
      { get: IPAM_CONFIG_KEY },
      { list: resourcePrefix('IPReservation') },
      { list: resourcePrefix('IPPool') },
      { get: resourceKey('Node', node) },
      { get: blockKey(4, cidr) },
    ]);
    const stored = blockOf(blockItems![0]);
    if (!stored || stored.value.affinity !== `host:${node}`) return batch;
    const config = configOf(configKv![0]);
    let pools;
    try {
      pools = determinePools(
        poolsOf(poolItems!),
        4,
        first.ipv4Pools,
        nodeLabelsOf(nodeItems![0], node),
        first.namespace?.labels ?? {},
        32,
      ).filter((p) => p.allowedUses.includes('Workload'));
    } catch {
      return batch; // the engine reports the pool error
    }
    if (!findPoolOfBlock(pools, parseCidr(cidr))) return batch;
    const reservations = reservationsOf(reservationItems!);
    let block = garbageCollect(stored.value, config.ipCooldownSeconds, now());
    const given: { w: Waiting; ip: string }[] = [];
    for (const w of batch) {
      const r = w.request;
      const next = assignFromBlock(block, {
        num: 1,
        handleId: r.handleId,
        attrs: r.attrs,
        affinity: `host:${node}`,
        affinityCheck: config.strictAffinity,
        reservations,
      });
      if (next.ordinals.length === 0) break;
      block = next.block;
      given.push({ w, ip: ipWithMask(block, next.ordinals[0]!) });
    }
    if (given.length < 2) return batch;
    const handles = given.map((g) => g.w.request.handleId!);
    try {
      await writeBlock(store, {
        family: 4,
        cidr: stored.value.cidr,
        change: { kind: 'update', block, revision: stored.revision, previous: stored.value },
        handles,
        // New CNI handles: presumed absent; one that exists fails the write, and then every
        // request of the batch goes through the engine, which reads it.
        knownHandles: new Map(handles.map((h) => [h, undefined])),
      });
    } catch {
      return batch;
    }
    events.onBatch?.(given.length);
    for (const g of given) g.w.resolve(resultOf(g.ip));
    return batch.slice(given.length);
  }

  /** Serve everything waiting under `key`, one write at a time, until nothing waits. */
  async function drain(key: string): Promise<void> {
    busy.add(key);
    try {
      for (let queue = waiting.get(key); queue && queue.length > 0; queue = waiting.get(key)) {
        waiting.delete(key);
        let rest = queue;
        const cidr = lastBlock.get(key);
        if (rest.length >= 2 && cidr !== undefined) {
          rest = await tryBatch(rest, cidr).catch(() => rest);
        }
        if (rest.length > 0) {
          // The first one through the engine (it may claim a block); the others wait for the
          // next round, where they can share its block.
          await viaEngine(rest[0]!, key);
          if (rest.length > 1) waiting.set(key, [...rest.slice(1), ...(waiting.get(key) ?? [])]);
        }
      }
    } finally {
      busy.delete(key);
    }
  }

  const releasing: {
    handleId: string;
    resolve(ips: string[]): void;
    reject(err: unknown): void;
  }[] = [];
  let releaseBusy = false;

  async function releaseViaEngine(w: (typeof releasing)[number]): Promise<void> {
    try {
      w.resolve(await ipam.releaseByHandle(w.handleId));
    } catch (err) {
      w.reject(err);
    }
  }

  /**
   * Release the handles of `batch` that each hold addresses in one block of this node, one
   * write per block (the handles read in one round trip); returns the requests left to the
   * engine: a missing handle (its not-found error), a handle over several blocks, a block of
   * another node, and any block the batch would leave empty (the engine may then release its
   * affinity, ensureConsistentAffinity).
   */
  async function tryReleaseBatch(batch: typeof releasing): Promise<typeof releasing> {
    const ids = batch.map((w) => cleanHandle(w.handleId));
    if (new Set(ids).size !== ids.length) return batch;
    const [configKv, ...handleItems] = await readAll(store, [
      { get: IPAM_CONFIG_KEY },
      ...ids.map((id) => ({ get: handleKey(id) })),
    ]);
    const config = configOf(configKv![0]);
    const rest: typeof releasing = [];
    const byBlock = new Map<
      string,
      { w: (typeof releasing)[number]; id: string; h: Stored<HandleValue> }[]
    >();
    batch.forEach((w, i) => {
      const h = handleOf(handleItems[i]![0]);
      const blocks = h ? Object.keys(h.value.block) : [];
      if (!h || blocks.length !== 1) return void rest.push(w);
      const group = byBlock.get(blocks[0]!) ?? [];
      group.push({ w, id: ids[i]!, h });
      byBlock.set(blocks[0]!, group);
    });
    await Promise.all(
      [...byBlock].map(async ([cidr, group]) => {
        const family = cidr.includes(':') ? 6 : 4;
        const stored = blockOf(await store.get(blockKey(family, cidr)));
        if (!stored || stored.value.affinity !== `host:${node}` || group.length < 2) {
          rest.push(...group.map((g) => g.w));
          return;
        }
        const nowMs = now();
        let block = garbageCollect(stored.value, config.ipCooldownSeconds, nowMs);
        const done: { w: (typeof releasing)[number]; ips: string[] }[] = [];
        for (const g of group) {
          const res = releaseHandleFromBlock(block, g.id, nowMs, config.ipCooldownSeconds);
          if (res.released.length === 0) {
            rest.push(g.w); // a stale handle entry: the engine drops it
            continue;
          }
          done.push({ w: g.w, ips: res.released.map((o) => formatIp(ordinalToIp(block, o))) });
          block = res.block;
        }
        const batched = group.filter((g) => done.some((d) => d.w === g.w));
        if (done.length < 2 || isEmpty(block)) {
          rest.push(...batched.map((g) => g.w));
          return;
        }
        try {
          await writeBlock(store, {
            family,
            cidr: stored.value.cidr,
            change: { kind: 'update', block, revision: stored.revision, previous: stored.value },
            handles: batched.map((g) => g.id),
            knownHandles: new Map(batched.map((g) => [g.id, g.h])),
          });
        } catch {
          rest.push(...batched.map((g) => g.w));
          return;
        }
        events.onReleaseBatch?.(done.length);
        for (const d of done) d.w.resolve(d.ips);
      }),
    );
    return rest;
  }

  async function drainReleases(): Promise<void> {
    releaseBusy = true;
    try {
      while (releasing.length > 0) {
        const batch = releasing.splice(0);
        const rest = batch.length >= 2 ? await tryReleaseBatch(batch).catch(() => batch) : batch;
        await Promise.all(rest.map(releaseViaEngine));
      }
    } finally {
      releaseBusy = false;
    }
  }

  return {
    /** ReleaseByHandle, batched with the others that arrive while a release is written. */
    releaseByHandle(handleId: string): Promise<string[]> {
      return new Promise((resolve, reject) => {
        releasing.push({ handleId, resolve, reject });
        if (!releaseBusy) void drainReleases();
      });
    },
    autoAssign(request: AutoAssignRequest): Promise<AutoAssignResult> {
      if (!isBatchable(request, node)) return ipam.autoAssign(request);
      const key = eligibilityKey(request);
      return new Promise((resolve, reject) => {
        const queue = waiting.get(key) ?? [];
        queue.push({ request, resolve, reject });
        waiting.set(key, queue);
        if (!busy.has(key)) void drain(key);
      });
    },
  };
}
