// A watch on one prefix over etcd's raw Watch stream. etcd3's WatchManager is not used because
// on reconnect it resumes from the store revision in the last response header rather than from
// the last event delivered, which can skip events, and it retries the same host forever. Here a
// broken stream is reopened on the next endpoint from the last revision delivered + 1, within a
// bounded window of failures.
import type { IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3';
import { setTimeout as delay } from 'node:timers/promises';
import { CidrpoolError } from '../../errors/index.js';
import type { Revision, WatchEvent, Watcher } from '../api.js';
import type { EndpointPool } from './endpoint-pool.js';
import { classifyFailure, toCidrpoolError } from './failure.js';
import { decodeKey, encodeKey } from '../key-bytes.js';
import { prefixRangeEnd } from './key-range.js';

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 1000;
/** Give up (and report DS_UNAVAILABLE) after failing to reconnect for this long. */
const MIN_FAILURE_WINDOW_MS = 10_000;

export class EtcdWatch implements Watcher {
  private readonly key: Buffer;
  private readonly rangeEnd: Buffer;
  /** Every event up to this revision has been delivered. */
  private delivered: bigint;
  private stream: WatchStream | undefined;
  private closed = false;
  private failingSince: number | undefined;
  private failures = 0;
  private readonly failureWindowMs: number;

  constructor(
    private readonly pool: EndpointPool,
    private readonly prefix: string,
    afterRevision: Revision,
    private readonly onEvent: (event: WatchEvent) => void,
    private readonly onError: ((error: Error) => void) | undefined,
    private readonly onDone: () => void,
  ) {
    this.failureWindowMs = Math.max(MIN_FAILURE_WINDOW_MS, 2 * pool.callTimeoutMs);
    if (!/^[0-9]+$/.test(afterRevision)) {
      throw new CidrpoolError(
        'DS_CONFLICT',
        `watch ${prefix}: "${afterRevision}" is not an etcd revision`,
        {
          details: { key: prefix },
        },
      );
    }
    this.key = encodeKey(prefix);
    this.rangeEnd = prefixRangeEnd(this.key);
    this.delivered = BigInt(afterRevision);
  }

  /** Open the stream (in the background: failures go to onError). */
  start(): void {
    void this.connect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream?.cancel();
    this.stream = undefined;
    this.onDone();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const index = this.pool.currentIndex;
    let stream: WatchStream;
    try {
      stream = await this.pool.clientAt(index).watchClient.watch();
    } catch (error) {
      this.lost(undefined, index, error);
      return;
    }
    // Listeners go on before anything else: an 'error' without one would crash the process.
    stream.on('error', (error) => this.lost(stream, index, error));
    stream.on('end', () => this.lost(stream, index, new Error('watch stream ended')));
    if (this.closed) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (response) => this.receive(stream, response));
    stream.write({
      create_request: {
        key: this.key,
        range_end: this.rangeEnd,
        start_revision: (this.delivered + 1n).toString(),
      },
    });
  }

  private receive(stream: WatchStream, response: IWatchResponse): void {
    if (this.closed || stream !== this.stream) return;
    if (response.canceled) {
      const compacted = response.compact_revision && response.compact_revision !== '0';
      this.finish(
        compacted
          ? new CidrpoolError(
              'DS_COMPACTED',
              `watch ${this.prefix}: revision ${this.delivered + 1n} has been compacted ` +
                `(oldest kept: ${response.compact_revision}); list again and watch from its revision`,
              { details: { key: this.prefix, compactRevision: response.compact_revision } },
            )
          : new CidrpoolError(
              'DS_UNAVAILABLE',
              `watch ${this.prefix}: etcd cancelled the watch: ${response.cancel_reason || 'no reason given'}`,
              { details: { key: this.prefix } },
            ),
      );
      return;
    }
    if (response.created) {
      this.failingSince = undefined;
      this.failures = 0;
    }
    // etcd never splits one revision across responses, so a revision at or below `delivered`
    // was delivered in full before a reconnect.
    const floor = this.delivered;
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (revision <= floor) continue;
      const type = event.type === 'Delete' ? 'delete' : 'put';
      this.onEvent({
        type,
        key: decodeKey(event.kv.key),
        ...(type === 'put' ? { value: event.kv.value.toString('utf8') } : {}),
        revision: event.kv.mod_revision,
      });
      if (revision > this.delivered) this.delivered = revision;
      if (this.closed) return;
    }
  }

  private lost(stream: WatchStream | undefined, index: number, error: unknown): void {
    if (this.closed || (stream !== undefined && stream !== this.stream)) return;
    this.stream = undefined;
    stream?.cancel();
    const failure = classifyFailure(error, 0);
    if (failure.kind === 'tls' || failure.kind === 'auth') {
      this.finish(
        toCidrpoolError(
          failure,
          this.pool.endpoints[index]!,
          `watch ${this.prefix}`,
          this.pool.tlsFiles,
        ),
      );
      return;
    }
    this.pool.markFailed(index);
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince > this.failureWindowMs) {
      this.finish(
        new CidrpoolError(
          'DS_UNAVAILABLE',
          `watch ${this.prefix}: no etcd endpoint answered for ${this.failureWindowMs} ms: ` +
            `${this.pool.endpoints.join(', ')} (last: ${failure.reason})`,
          { details: { key: this.prefix, endpoints: this.pool.endpoints }, cause: error },
        ),
      );
      return;
    }
    const pause = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.failures++);
    void delay(pause).then(() => this.connect());
  }

  private finish(error: Error): void {
    void this.close();
    this.onError?.(error);
  }
}
