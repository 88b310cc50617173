// Watches of the embedded datastore: a watcher polls the revision log of the SQLite file, so it
// sees writes of every process that shares the file. Writes of this process wake it at once.
import { CidrpoolError } from '../../errors/index.js';
import type { WatchEvent, Watcher } from '../api.js';

/** What one poll reads from the log, in one read transaction. */
export interface LogBatch {
  /** Log rows with id > afterId, in id (= revision) order. */
  readonly events: readonly (WatchEvent & { readonly id: number })[];
  /** True when the batch was cut by its size limit: poll again at once. */
  readonly more: boolean;
  /** The store's revision at the time of the read. */
  readonly revision: number;
  /** Log rows up to and including this revision have been trimmed. */
  readonly compacted: number;
}

export interface PollingWatcherOptions {
  readonly prefix: string;
  /** Deliver events with revision > this. */
  readonly afterRevision: number;
  readonly pollMs: number;
  readonly readBatch: (afterId: number, afterRevision: number) => LogBatch;
  readonly onEvent: (event: WatchEvent) => void;
  readonly onError?: (error: Error) => void;
  /** Called once when the watcher stops, for whatever reason. */
  readonly onStop: (watcher: PollingWatcher) => void;
}

/** One watch: polls until closed, or until an error (reported once to onError) stops it. */
export class PollingWatcher implements Watcher {
  readonly #options: PollingWatcherOptions;
  /** Every event of the prefix with revision <= position has been delivered. */
  #position: number;
  #lastId = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(options: PollingWatcherOptions) {
    this.#options = options;
    this.#position = options.afterRevision;
    this.wake();
  }

  /** Poll soon (a write of this process may have added events). */
  wake(): void {
    if (this.#stopped || this.#immediate) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#poll();
    });
  }

  async close(): Promise<void> {
    this.#stop();
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#options.onStop(this);
  }

  #fail(error: Error): void {
    this.#stop();
    if (this.#options.onError) this.#options.onError(error);
    else process.emitWarning(`cidrpool watch of ${this.#options.prefix} stopped: ${error.message}`);
  }

  #poll(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let batch: LogBatch;
    try {
      batch = this.#options.readBatch(this.#lastId, this.#options.afterRevision);
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.#position < batch.compacted) {
      this.#fail(
        new CidrpoolError(
          'DS_COMPACTED',
          `cannot watch ${this.#options.prefix} from revision ${this.#position}: the embedded ` +
            `datastore keeps events only after revision ${batch.compacted}; list again and ` +
            'watch from the revision of that list',
          {
            details: {
              prefix: this.#options.prefix,
              revision: String(this.#position),
              compactedRevision: String(batch.compacted),
            },
          },
        ),
      );
      return;
    }
    for (const { id, ...event } of batch.events) {
      this.#lastId = id;
      try {
        this.#options.onEvent(event);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.#stopped) return;
    }
    const last = batch.events.at(-1);
    if (batch.more && last) {
      // The batch may have ended in the middle of a revision.
      this.#position = Math.max(this.#position, Number(last.revision) - 1);
      this.wake();
    } else {
      this.#position = Math.max(this.#position, batch.revision);
      this.#timer = setTimeout(() => this.#poll(), this.#options.pollMs);
    }
  }
}
