// The block part of the dashboard, kept up to date block by block: each block is summarised
// once by the engine's summarizeBlock when it is read or changes (a watch event carries its new
// value), and the pools are regrouped by groupUtilization, the two halves of getUtilization. So a
// live update costs one block decode and a regrouping, not a scan of every block, and the numbers
// are those of `ipam show --show-blocks` by construction.
import { listAll, type Datastore, type WatchEvent } from '../datastore/api.js';
import { blockCidrFromKey, IPAM_CONFIG_KEY, resourcePrefix } from '../datastore/keys.js';
import { forEachBlock } from '../ipam/block-scan.js';
import { configOf } from '../ipam/block-store.js';
import { reservationsOf } from '../ipam/context.js';
import type { BlockUtilization, IpamConfig } from '../ipam/index.js';
import { decodeBlock, type Block } from '../ipam/model.js';
import { poolsOf, type PoolInfo } from '../ipam/pools.js';
import type { Reservations } from '../ipam/reservations.js';
import { groupUtilization, summarizeBlock, type BlockSummary } from '../ipam/utilization.js';
import type { Cidr } from '../net/index.js';
import type { IPPool, IPPoolSpec } from '../resources/types.js';
import { allocationTimes, countInWindow } from './forecast.js';
import type { BlockPart } from './snapshot.js';

interface Entry {
  readonly summary: BlockSummary;
  /** Allocation times of the block's live allocations (forecast.ts). */
  readonly times: readonly number[];
  /** The block itself while addresses in it cool down: time alone frees them (refreshCooling). */
  readonly cooling?: Block;
}

const POOLS_PREFIX = resourcePrefix('IPPool');
const RESERVATIONS_PREFIX = resourcePrefix('IPReservation');

/** What a watch event means for the block part. */
export type EventEffect = 'block' | 'reload' | 'none';

export class BlockCache {
  readonly #store: Datastore;
  readonly #now: () => number;
  #pools: PoolInfo[] = [];
  #specs = new Map<string, IPPoolSpec>();
  #reservations: Reservations = reservationsOf([]);
  #config: IpamConfig | undefined;
  readonly #entries = new Map<string, Entry>();
  #sortedKeys: string[] | undefined;

  constructor(store: Datastore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** Read pools, reservations, the IPAM config and every block again. Throws DS_* errors. */
  async reload(): Promise<void> {
    const [poolItems, reservationItems, configKv] = await Promise.all([
      listAll(this.#store, POOLS_PREFIX),
      listAll(this.#store, RESERVATIONS_PREFIX),
      this.#store.get(IPAM_CONFIG_KEY),
    ]);
    this.#pools = poolsOf(poolItems);
    this.#specs = new Map();
    for (const kv of poolItems) {
      try {
        const p = JSON.parse(kv.value) as IPPool;
        this.#specs.set(p.metadata.name, p.spec);
      } catch {
        // poolsOf skipped it too.
      }
    }
    this.#reservations = reservationsOf(reservationItems);
    this.#config = configOf(configKv);
    this.#entries.clear();
    this.#sortedKeys = undefined;
    const now = this.#now();
    await forEachBlock(this.#store, (block, kv) => this.#set(kv.key, block, now));
  }

  /**
   * Apply one watch event: a block's new value (or its deletion) is summarised at once; a change
   * of a pool, a reservation or the IPAM config asks for a reload; other keys change nothing here.
   */
  apply(event: WatchEvent): EventEffect {
    const { key } = event;
    if (
      key.startsWith(POOLS_PREFIX) ||
      key.startsWith(RESERVATIONS_PREFIX) ||
      key === IPAM_CONFIG_KEY
    )
      return 'reload';
    if (blockCidrFromKey(key) === undefined) return 'none';
    if (event.type === 'delete' || event.value === undefined) {
      if (this.#entries.delete(key)) this.#sortedKeys = undefined;
      return 'block';
    }
    let block: Block;
    try {
      block = decodeBlock(event.value, key);
    } catch {
      // A block that does not decode: ipam show fails on it too; leave it out until it is fixed.
      if (this.#entries.delete(key)) this.#sortedKeys = undefined;
      return 'block';
    }
    this.#set(key, block, this.#now());
    return 'block';
  }

  #set(key: string, block: Block, now: number): void {
    const summary = summarizeBlock(
      block,
      this.#reservations,
      this.#config?.ipCooldownSeconds ?? 0,
      now,
    );
    if (!summary) {
      if (this.#entries.delete(key)) this.#sortedKeys = undefined;
      return;
    }
    if (!this.#entries.has(key)) this.#sortedKeys = undefined;
    const cooling = block.attributes.some((a) => a.releasedAt !== undefined);
    this.#entries.set(key, {
      summary,
      times: allocationTimes(block),
      ...(cooling ? { cooling: block } : {}),
    });
  }

  /**
   * Summarise again the blocks whose addresses cool down, so those whose cooldown ended count as
   * free without any write (ipam show frees them as it reads). Cheap: only those blocks.
   */
  refreshCooling(): void {
    const now = this.#now();
    for (const [key, entry] of [...this.#entries])
      if (entry.cooling) this.#set(key, entry.cooling, now);
  }

  /** The pools' utilisation now, in getUtilization's order, and the forecast's window counts. */
  part(): BlockPart {
    // Key order, as a scan of the store lists the blocks (JavaScript order is byte order here:
    // block keys are ASCII).
    this.#sortedKeys ??= [...this.#entries.keys()].sort();
    const entries = this.#sortedKeys.map((k) => this.#entries.get(k)!);
    const utilization = groupUtilization(
      this.#pools,
      entries.map((e) => e.summary),
      this.#reservations,
    );
    const times = new Map<BlockUtilization, readonly number[]>();
    const cidrOf = new Map<BlockUtilization, Cidr>();
    for (const e of entries) {
      times.set(e.summary.utilization, e.times);
      cidrOf.set(e.summary.utilization, e.summary.cidr);
    }
    const now = this.#now();
    const recentAllocations = new Map<string, number>();
    for (const g of utilization) {
      if (g.name === undefined) continue;
      let n = 0;
      for (const b of g.blocks) n += countInWindow(times.get(b) ?? [], now);
      recentAllocations.set(g.name, n);
    }
    return { pools: this.#pools, specs: this.#specs, utilization, recentAllocations, cidrOf };
  }
}
