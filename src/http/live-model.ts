// The dashboard's current model, kept live: one watch on every Calico key, and a rebuild shortly
// after each burst of changes (at most one rebuild at a time; changes during a rebuild trigger
// one more). Listeners hear the new version; the browsers then fetch the snapshot.
import { gzipSync } from 'node:zlib';
import type { Datastore, Watcher } from '../datastore/api.js';
import type { Ipam } from '../ipam/index.js';
import { UsageHistory } from './forecast.js';
import { buildModel, type Model } from './snapshot.js';

/** Every key the dashboard shows lives under this prefix (resources and IPAM). */
export const WATCH_PREFIX = '/calico/';

export interface LiveModelOptions {
  /** Wait this long after a change for more before rebuilding (a CNI ADD writes several keys). */
  readonly debounceMs?: number;
  /** Rebuild at least this often, so the forecast gets samples while nothing changes. */
  readonly sampleEveryMs?: number;
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
  readonly #history = new UsageHistory();
  readonly #listeners = new Set<(version: number) => void>();
  readonly #debounceMs: number;
  readonly #sampleEveryMs: number;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  #model: Model | undefined;
  #encoded: EncodedSnapshot | undefined;
  #version = 0;
  #watcher: Watcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #building: Promise<void> | undefined;
  #dirty = false;
  #closed = false;

  constructor(store: Datastore, ipam: Ipam, options: LiveModelOptions = {}) {
    this.#store = store;
    this.#ipam = ipam;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#sampleEveryMs = options.sampleEveryMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
  }

  /** Build the first model and start watching. Throws DS_* errors of the first read. */
  async start(): Promise<void> {
    await this.#watchAndBuild();
    this.#sampler = setInterval(() => this.#schedule(0), this.#sampleEveryMs);
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

  /** Call `listener` with each new version; returns the unsubscribe function. */
  subscribe(listener: (version: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when no rebuild is running or due (for tests and benchmarks). */
  async settled(): Promise<void> {
    for (let i = 0; i < 1000 && (this.#building || this.#timer); i++) {
      await (this.#building ?? new Promise((r) => setTimeout(r, this.#debounceMs)));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#sampler);
    this.#timer = undefined;
    await this.#building;
    await this.#watcher?.close();
    this.#listeners.clear();
  }

  /** Read the store's revision, build, then watch from that revision (nothing is missed). */
  async #watchAndBuild(): Promise<void> {
    const { revision } = await this.#store.list(WATCH_PREFIX, { limit: 1, keysOnly: true });
    await this.#rebuild();
    if (this.#closed) return;
    await this.#watcher?.close();
    this.#watcher = this.#store.watch(
      WATCH_PREFIX,
      revision,
      () => this.#schedule(this.#debounceMs),
      (error) => {
        // A broken watch (etcd restarted, history compacted): start over after a pause.
        this.#log(`dashboard: watch failed (${error.message}); restarting it`);
        if (this.#closed) return;
        setTimeout(() => {
          if (!this.#closed)
            this.#watchAndBuild().catch((e: Error) => this.#log(`dashboard: ${e.message}`));
        }, 1000).unref();
      },
    );
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    if (this.#building) {
      this.#dirty = true;
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#rebuild();
    }, delayMs);
  }

  async #rebuild(): Promise<void> {
    const run = (async () => {
      try {
        this.#model = await buildModel(
          { store: this.#store, ipam: this.#ipam },
          this.#history,
          ++this.#version,
          this.#now,
        );
        for (const listener of this.#listeners) listener(this.#model.snapshot.version);
      } catch (err) {
        // The previous model stays; the next change or sample tries again.
        this.#log(`dashboard: rebuild failed: ${(err as Error).message}`);
        if (!this.#model) throw err;
      }
    })();
    this.#building = run;
    try {
      await run;
    } finally {
      this.#building = undefined;
      if (this.#dirty) {
        this.#dirty = false;
        this.#schedule(this.#debounceMs);
      }
    }
  }
}
