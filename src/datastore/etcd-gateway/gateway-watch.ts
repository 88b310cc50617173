// A watch through etcd's JSON gateway: `POST /v3/watch` with a create request, answered by a
// stream of JSON objects, one per watch response. One stream per watch; a stream that ends or
// breaks is reported to onError (DS_UNAVAILABLE), a compacted start revision as DS_COMPACTED.
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

  constructor(
    private readonly connection: GatewayConnection,
    private readonly prefix: string,
    private readonly afterRevision: Revision,
    private readonly onEvent: (event: WatchEvent) => void,
    private readonly onError: ((error: Error) => void) | undefined,
    private readonly onClosed: () => void,
  ) {}

  start(): void {
    void this.run().catch((err: unknown) => this.fail(err));
  }

  private async run(): Promise<void> {
    const index = this.connection.currentIndex;
    await this.connection.authorization(index);
    const start = encodeKey(this.prefix);
    const end = prefixRangeEnd(start);
    const create = {
      create_request: {
        key: start.toString('base64'),
        ...(end ? { range_end: end.toString('base64') } : {}),
        start_revision: String(BigInt(this.afterRevision) + 1n),
      },
    };
    const res = await this.connection.request(index, '/v3/watch', create, 0, true);
    if (this.closed) {
      res.destroy();
      return;
    }
    this.response = res;
    let pending = '';
    res.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      // The gateway writes one JSON object per response, each ended by a newline.
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) this.deliver(JSON.parse(line) as WireWatchResponse);
        newline = pending.indexOf('\n');
      }
    });
    res.on('end', () => this.fail(new Error('the watch stream ended')));
    res.on('error', (err) => this.fail(err));
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
          `watch ${this.prefix} from revision ${this.afterRevision}: etcd compacted up to ${result.compact_revision}`,
          { details: { compactRevision: result.compact_revision } },
        ),
      );
      return;
    }
    for (const e of result.events ?? []) {
      const key = decodeKey(Buffer.from(e.kv?.key ?? '', 'base64'));
      const revision = e.kv?.mod_revision ?? '0';
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
