// The dashboard's current model, kept live from one watch on every Calico key. A block change
// updates the block part at once (block-cache.ts; a short debounce gathers the keys of one CNI
// ADD); the check part (`ipam check`, snapshot.ts) runs in the background: the first version is
// published without it (a check of a big store takes a minute), and it is rerun after changes, at
// most once per four times its own duration, so a big store is never rescanned back to back.
// Listeners hear each new version; the browsers then fetch the snapshot.
import { gzipSync } from 'node:zlib';
import type { Datastore, WatchEvent, Watcher } from '../datastore/api.js';
import type { Ipam } from '../ipam/index.js';
import { BlockCache } from './block-cache.js';
import { loadSamples, saveSamples } from './forecast-state.js';
import { UsageHistory } from './forecast.js';
import type { SearchResult } from './api-types.js';
import type { CheckRunner } from './check-worker.js';
import { matchAllocations, search } from './search.js';
import {
  composeModel,
  PENDING_CHECK,
  readCheckPart,
  type CheckPart,
  type Model,
} from './snapshot.js';

/** Every key the dashboard shows lives under this prefix (resources and IPAM). */
export const WATCH_PREFIX = '/calico/';

/** The check part is rerun no sooner than this many times its last duration after it ended. */
const CHECK_SPACING = 4;

export interface LiveModelOptions {
  /** Wait this long after a change for more before publishing (a CNI ADD writes several keys). */
  readonly debounceMs?: number;
  /**
   * Publish (and check) at least this often, so the forecast gets samples and cooled-down
   * addresses are freed while nothing changes.
   */
  readonly sampleEveryMs?: number;
  /**
   * Runs the check part and searches its details (default: on this thread with `ipam`); run.ts
   * gives a worker thread's (check-worker.ts), so a long check does not hold up requests and live
   * updates.
   */
  readonly checker?: CheckRunner;
  /** The forecast's samples are loaded from and saved (once a minute, and on close) to this file. */
  readonly stateFile?: string;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
}

/** The snapshot of one version as it goes over the wire, encoded once. */
export interface EncodedSnapshot {
  readonly version: number;
  readonly json: Buffer;
  readonly gzip: Buffer;
}

export class LiveModel {
  readonly #store: Datastore;
  readonly #ipam: Ipam;
  readonly #blocks: BlockCache;
  readonly #history: UsageHistory;
  readonly #stateFile: string | undefined;
  readonly #checker: CheckRunner;
  #stateFailed = false;
  readonly #listeners = new Set<(version: number) => void>();
  readonly #debounceMs: number;
  readonly #sampleEveryMs: number;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  #model: Model | undefined;
  #check: CheckPart | undefined;
  #encoded: EncodedSnapshot | undefined;
  #version = 0;
  #watcher: Watcher | undefined;
  #sampler: NodeJS.Timeout | undefined;
  /** Debounce of the block part. */
  #timer: NodeJS.Timeout | undefined;
  /** Wait before the next check part. */
  #checkTimer: NodeJS.Timeout | undefined;
  #stepping: Promise<void> | undefined;
  #checking: Promise<void> | undefined;
  #lastCheckEnd = 0;
  /** Events that arrived while the blocks were being reloaded, applied after. */
  #queued: WatchEvent[] | undefined;
  #reloadNeeded = false;
  #blocksDirty = false;
  #checkDirty = false;
  #closed = false;

  constructor(store: Datastore, ipam: Ipam, options: LiveModelOptions = {}) {
    this.#store = store;
    this.#ipam = ipam;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#sampleEveryMs = options.sampleEveryMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    this.#blocks = new BlockCache(store, this.#now);
    this.#stateFile = options.stateFile;
    this.#checker = options.checker ?? {
      run: () => readCheckPart(this.#store, this.#ipam, this.#now),
      search: async (query) =>
        matchAllocations((this.#check ?? PENDING_CHECK).report.allocations, query),
    };
    this.#history = new UsageHistory(
      this.#stateFile ? loadSamples(this.#stateFile, this.#log) : undefined,
      this.#stateFile,
    );
  }

  /**
   * Read the blocks, publish the first version (its check part pending) and start watching; the
   * first `ipam check` runs in the background. Throws DS_* errors.
   */
  async start(): Promise<void> {
    await this.#watchAndLoad();
    this.#sampler = setInterval(() => {
      // Not a full reread (seconds of this thread on a big store): only cooling-down blocks.
      this.#blocks.refreshCooling();
      this.#blocksDirty = true;
      this.#checkDirty = true;
      this.#schedule(0);
      this.#saveHistory();
    }, this.#sampleEveryMs);
    this.#sampler.unref();
  }

  /** The latest model (start() must have resolved). */
  get model(): Model {
    if (!this.#model) throw new Error('LiveModel.start() has not finished');
    return this.#model;
  }

  /** The latest snapshot as JSON and gzip, encoded on first use. */
  encoded(): EncodedSnapshot {
    const model = this.model;
    if (this.#encoded?.version !== model.snapshot.version) {
      const json = Buffer.from(JSON.stringify(model.snapshot));
      this.#encoded = { version: model.snapshot.version, json, gzip: gzipSync(json, { level: 4 }) };
    }
    return this.#encoded;
  }

  /** The answer to a search (search.ts) in the latest model. */
  async search(query: string): Promise<SearchResult> {
    const found = await this.#checker.search(query);
    return search(this.model, query, found);
  }

  /** Call `listener` with each new version; returns the unsubscribe function. */
  subscribe(listener: (version: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when nothing is running or due, the check part included (tests, benchmarks). */
  async settled(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      const busy = this.#stepping ?? this.#checking;
      if (busy) await busy;
      else if (this.#timer || this.#checkTimer) await new Promise((r) => setTimeout(r, 20));
      else return;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#checkTimer);
    clearInterval(this.#sampler);
    this.#timer = this.#checkTimer = undefined;
    await this.#stepping;
    await this.#checking;
    await this.#watcher?.close();
    this.#listeners.clear();
    this.#saveHistory();
  }

  /** Keep the forecast's samples in the state file; a failure is logged once, then retried quietly. */
  #saveHistory(): void {
    if (!this.#stateFile) return;
    try {
      saveSamples(this.#stateFile, this.#history.all());
      this.#stateFailed = false;
    } catch (err) {
      if (!this.#stateFailed)
        this.#log(`dashboard: cannot save the forecast state: ${(err as Error).message}`);
      this.#stateFailed = true;
    }
  }

  /** Read the store's revision, load both parts, then watch from that revision. */
  async #watchAndLoad(): Promise<void> {
    const { revision } = await this.#store.list(WATCH_PREFIX, { limit: 1, keysOnly: true });
    await this.#reloadBlocks();
    this.#publish();
    if (this.#closed) return;
    await this.#watcher?.close();
    this.#watcher = this.#store.watch(
      WATCH_PREFIX,
      revision,
      (event) => this.#onEvent(event),
      (error) => {
        // A broken watch (etcd restarted, history compacted): start over after a pause.
        this.#log(`dashboard: watch failed (${error.message}); restarting it`);
        if (this.#closed) return;
        setTimeout(() => {
          if (!this.#closed)
            this.#watchAndLoad().catch((e: Error) => this.#log(`dashboard: ${e.message}`));
        }, 1000).unref();
      },
    );
    this.#checkDirty = true;
    this.#startCheck();
  }

  #onEvent(event: WatchEvent): void {
    this.#checkDirty = true;
    if (this.#queued) this.#queued.push(event);
    else this.#absorb(event);
    this.#schedule(this.#debounceMs);
  }

  #absorb(event: WatchEvent): void {
    const effect = this.#blocks.apply(event);
    if (effect === 'reload') this.#reloadNeeded = true;
    if (effect !== 'none') this.#blocksDirty = true;
  }

  async #reloadBlocks(): Promise<void> {
    this.#queued = [];
    try {
      await this.#blocks.reload();
    } finally {
      const queued = this.#queued;
      this.#queued = undefined;
      for (const event of queued) this.#absorb(event);
    }
  }

  #schedule(delayMs: number): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stepping) {
        this.#schedule(this.#debounceMs);
        return;
      }
      this.#stepping = this.#step().finally(() => (this.#stepping = undefined));
    }, delayMs);
  }

  /** Publish the block part if it changed, then start the check part if it is due. */
  async #step(): Promise<void> {
    try {
      if (this.#reloadNeeded) {
        this.#reloadNeeded = false;
        this.#blocksDirty = true;
        await this.#reloadBlocks();
      }
      if (this.#blocksDirty) {
        this.#blocksDirty = false;
        this.#publish();
      }
    } catch (err) {
      // The previous model stays; the next change or sample tries again.
      this.#reloadNeeded = true;
      this.#log(`dashboard: reading the blocks failed: ${(err as Error).message}`);
    }
    this.#startCheck();
  }

  #startCheck(): void {
    if (this.#closed || !this.#checkDirty || this.#checking || this.#checkTimer) return;
    const wait = this.#lastCheckEnd + CHECK_SPACING * (this.#check?.buildMs ?? 0) - this.#now();
    if (wait > 0) {
      this.#checkTimer = setTimeout(() => {
        this.#checkTimer = undefined;
        this.#startCheck();
      }, wait);
      return;
    }
    this.#checkDirty = false;
    let failed = false;
    this.#checking = (async () => {
      try {
        this.#check = await this.#checker.run();
        this.#publish();
      } catch (err) {
        this.#checkDirty = true;
        failed = true;
        this.#log(`dashboard: ipam check failed: ${(err as Error).message}`);
      } finally {
        // After a failure, wait at least a second before the next try.
        this.#lastCheckEnd = this.#now() + (failed ? 1000 : 0);
        this.#checking = undefined;
        this.#startCheck();
      }
    })();
  }

  #publish(): void {
    const started = performance.now();
    const model = composeModel(
      this.#blocks.part(),
      this.#check,
      this.#history,
      ++this.#version,
      this.#now(),
      this.#store.type,
    );
    const buildMs = Math.round((performance.now() - started) * 10) / 10;
    this.#model = { ...model, snapshot: { ...model.snapshot, buildMs } };
    for (const listener of this.#listeners) listener(this.#model.snapshot.version);
  }
}
