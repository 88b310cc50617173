// A watch through etcd's JSON gateway: `POST /v3/watch` with a create request, answered by a
// stream of JSON objects, one per watch response. One stream per watch at a time. A stream that
// ends or breaks (its member died, a network failure) is opened again on the other endpoints in
// turn, from the revision after the last event delivered, so the watcher misses nothing and
// sees no error; only when no endpoint takes it is DS_UNAVAILABLE reported to onError. A
// compacted start revision is DS_COMPACTED.
import type { IncomingMessage } from 'node:http';
import { CidrpoolError } from '../../errors/index.js';
import type { Revision, Watcher, WatchEvent } from '../api.js';
import { decodeKey, encodeKey } from '../key-bytes.js';
import { prefixRangeEnd } from '../etcd/key-range.js';
import type { GatewayConnection } from './gateway-connection.js';

interface WireWatchResponse {
  result?: {
    compact_revision?: string;
    canceled?: boolean;
    cancel_reason?: string;
    events?: {
      type?: 'PUT' | 'DELETE';
      kv?: { key?: string; value?: string; mod_revision?: string };
    }[];
  };
  error?: { message?: string };
}

export class GatewayWatch implements Watcher {
  private response: IncomingMessage | undefined;
  private closed = false;
  /** The revision of the last event delivered: a stream opened again starts after it. */
  private delivered: bigint;

  constructor(
    private readonly connection: GatewayConnection,
    private readonly prefix: string,
    afterRevision: Revision,
    private readonly onEvent: (event: WatchEvent) => void,
    private readonly onError: ((error: Error) => void) | undefined,
    private readonly onClosed: () => void,
  ) {
    this.delivered = BigInt(afterRevision);
  }

  start(): void {
    void this.open(this.connection.currentIndex, []);
  }

  /**
   * Open the stream on endpoint `index`, or on the next ones when it fails; `failed` holds what
   * went wrong on the endpoints tried since the last working stream (each is tried once).
   */
  private async open(index: number, failed: string[]): Promise<void> {
    try {
      await this.stream(index);
    } catch (err) {
      if (err instanceof CidrpoolError && err.code === 'DS_COMPACTED') return this.fail(err);
      this.broke(index, err, failed);
    }
  }

  /** The stream of endpoint `index` broke (or never opened): the next endpoint, if one is left. */
  private broke(index: number, err: unknown, failed: string[]): void {
    if (this.closed) return;
    this.response?.destroy();
    this.response = undefined;
    const tried = [...failed, `${this.connection.endpoint(index)}: ${String(err)}`];
    if (tried.length >= this.connection.endpointCount) {
      this.fail(new Error(tried.join('; ')));
      return;
    }
    void this.open((index + 1) % this.connection.endpointCount, tried);
  }

  private async stream(index: number): Promise<void> {
    await this.connection.authorization(index);
    const start = encodeKey(this.prefix);
    const end = prefixRangeEnd(start);
    const create = {
      create_request: {
        key: start.toString('base64'),
        ...(end ? { range_end: end.toString('base64') } : {}),
        start_revision: String(this.delivered + 1n),
      },
    };
    const res = await this.connection.request(
      index,
      '/v3/watch',
      create,
      this.connection.callTimeoutMs,
      true,
    );
    if (this.closed) {
      res.destroy();
      return;
    }
    this.response = res;
    let pending = '';
    let working = false;
    let over = false;
    // A working stream that breaks starts a fresh round over every endpoint.
    const broken = (err: unknown) => {
      if (over || res !== this.response) return;
      over = true;
      this.broke(index, err, working ? [] : [`${this.connection.endpoint(index)}: no answer`]);
    };
    res.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      // The gateway writes one JSON object per response, each ended by a newline.
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) {
          working = true;
          this.deliver(JSON.parse(line) as WireWatchResponse);
        }
        newline = pending.indexOf('\n');
      }
    });
    res.on('end', () => broken(new Error('the watch stream ended')));
    res.on('error', (err) => broken(err));
    res.on('close', () => broken(new Error('the watch stream closed')));
  }

  private deliver(message: WireWatchResponse): void {
    if (this.closed) return;
    const result = message.result;
    if (message.error || !result) {
      this.fail(new Error(message.error?.message ?? 'watch error'));
      return;
    }
    if (result.compact_revision && result.compact_revision !== '0') {
      this.fail(
        new CidrpoolError(
          'DS_COMPACTED',
          `watch ${this.prefix} from revision ${this.delivered}: etcd compacted up to ${result.compact_revision}`,
          { details: { compactRevision: result.compact_revision } },
        ),
      );
      return;
    }
    for (const e of result.events ?? []) {
      const key = decodeKey(Buffer.from(e.kv?.key ?? '', 'base64'));
      const revision = e.kv?.mod_revision ?? '0';
      if (BigInt(revision) > this.delivered) this.delivered = BigInt(revision);
      this.onEvent(
        e.type === 'DELETE'
          ? { type: 'delete', key, revision }
          : {
              type: 'put',
              key,
              value: Buffer.from(e.kv?.value ?? '', 'base64').toString('utf8'),
              revision,
            },
      );
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    void this.close();
    const error =
      err instanceof CidrpoolError
        ? err
        : new CidrpoolError('DS_UNAVAILABLE', `watch ${this.prefix}: ${String(err)}`, {
            cause: err,
          });
    this.onError?.(error);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.response?.destroy();
    this.onClosed();
  }
}
