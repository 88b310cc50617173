// The Datastore contract on etcd v3, the way libcalico-go's etcdv3 backend does it
// (lib/backend/etcdv3/etcdv3.go): revisions are etcd mod revisions, every conditional write is
// one Txn whose failure branch reads the keys back, so a failed compare is explained (missing
// vs changed, which condition failed) without a second round trip.
import type { Etcd3, IKeyValue, IRequestOp, ICompare, ITxnRequest, ITxnResponse } from 'etcd3';
import { CidrpoolError } from '../../errors/index.js';
import type {
  Datastore,
  KeyValue,
  ListOptions,
  ListResult,
  ReadManyResult,
  ReadRequest,
  ReadResponse,
  Revision,
  TxnCondition,
  TxnOperation,
  TxnResult,
  WatchEvent,
  Watcher,
} from '../api.js';
import { decodeKey, encodeKey } from '../key-bytes.js';
import { pageStart, prefixRangeEnd } from './key-range.js';

/** The four calls of etcd's KV service the store makes (etcd3's gRPC client, or the gateway). */
export type KvService = Pick<Etcd3['kv'], 'range' | 'put' | 'deleteRange' | 'txn'>;

/**
 * A connection to etcd's KV service with its endpoint and retry policy: EndpointPool (gRPC) or
 * the JSON gateway (src/datastore/etcd-gateway). `write` marks a call after whose failure a
 * retry may find its own write; `ambiguous` says an earlier attempt failed that way.
 */
export interface KvConnection {
  call<T>(
    what: string,
    attempt: (client: { readonly kv: KvService }, options: { deadline: number }) => Promise<T>,
    write?: boolean,
  ): Promise<{ readonly value: T; readonly ambiguous: boolean }>;
  close(): void;
}

/** Starts a watch of the store (the gRPC watch stream, or the gateway's). */
export type OpenWatch = (
  prefix: string,
  afterRevision: Revision,
  onEvent: (event: WatchEvent) => void,
  onError: ((error: Error) => void) | undefined,
  onClosed: () => void,
) => Watcher & { start(): void };

const toKeyValue = (kv: IKeyValue): KeyValue => ({
  key: decodeKey(kv.key),
  value: kv.value.toString('utf8'),
  revision: kv.mod_revision,
});

/** Revisions we hand out are positive decimal integers without leading zeros. */
function checkRevision(key: string, revision: Revision): void {
  if (!/^[1-9][0-9]*$/.test(revision)) {
    throw new CidrpoolError(
      'DS_CONFLICT',
      `${key}: "${revision}" is not an etcd revision; read the key again`,
      { details: { key, expectedRevision: revision } },
    );
  }
}

const compareRevision = (key: string, revision: Revision): ICompare => ({
  key: encodeKey(key),
  target: 'Mod',
  result: 'Equal',
  mod_revision: revision,
});

// A key that does not exist has version 0 (Calico's Create compares the same way).
const compareAbsent = (key: string): ICompare => ({
  key: encodeKey(key),
  target: 'Version',
  result: 'Equal',
  version: 0,
});

const putOp = (key: string, value: string): IRequestOp => ({
  request_put: { key: encodeKey(key), value: Buffer.from(value, 'utf8') },
});
const deleteOp = (key: string): IRequestOp => ({ request_delete_range: { key: encodeKey(key) } });
const readOp = (key: string): IRequestOp => ({ request_range: { key: encodeKey(key) } });

/** etcd's default --max-txn-ops: a larger batch is read as several transactions. */
const MAX_TXN_OPS = 128;

/** The range request of one batched read. */
function rangeOp(request: ReadRequest): IRequestOp {
  if ('get' in request) return readOp(request.get);
  const start = encodeKey(request.list);
  const limit =
    request.limit !== undefined && request.limit > 0 ? Math.floor(request.limit) : undefined;
  return {
    request_range: {
      key: start,
      range_end: prefixRangeEnd(start),
      ...(limit !== undefined ? { limit } : {}),
    },
  };
}

/** The key read by the failure branch's `index`-th range, or undefined when absent. */
const readBack = (response: ITxnResponse, index: number): IKeyValue | undefined =>
  response.responses[index]?.response_range?.kvs[0];

/** Why a compare-and-swap on one key failed: the key is gone, or it moved on. */
function casFailure(
  key: string,
  expectedRevision: Revision,
  current: ReturnType<typeof readBack>,
): CidrpoolError {
  if (!current)
    return new CidrpoolError('DS_NOT_FOUND', `${key} does not exist`, { details: { key } });
  return new CidrpoolError(
    'DS_CONFLICT',
    `${key} changed: expected revision ${expectedRevision}, found ${current.mod_revision}`,
    { details: { key, expectedRevision, revision: current.mod_revision } },
  );
}

/**
 * After a failed attempt that may have been applied, a retry whose compare fails may be failing
 * on our own write: say so rather than report a conflict that is perhaps not one.
 */
function outcomeUnknown(what: string, key: string): CidrpoolError {
  return new CidrpoolError(
    'DS_UNAVAILABLE',
    `${what}: etcd failed while the write was in flight and the retry found ${key} changed; ` +
      'the write may or may not have been applied: read the key again',
    { details: { key, ambiguous: true } },
  );
}

export class EtcdStore implements Datastore {
  readonly type = 'etcdv3' as const;
  private readonly watches = new Set<Watcher>();
  private closed = false;

  constructor(
    private readonly pool: KvConnection,
    private readonly openWatch: OpenWatch,
  ) {}

  async get(key: string): Promise<KeyValue | undefined> {
    const { value } = await this.pool.call(`get ${key}`, (client, options) =>
      client.kv.range({ key: encodeKey(key) }, options),
    );
    const kv = value.kvs[0];
    return kv ? toKeyValue(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const start = encodeKey(prefix);
    const end = prefixRangeEnd(start);
    const from = pageStart(start, end, options.startAfter);
    const limit = options.limit !== undefined && options.limit > 0 ? Math.floor(options.limit) : 0;
    const { value } = await this.pool.call(`list ${prefix}`, (client, callOptions) =>
      from === undefined
        ? client.kv.range({ key: start, range_end: end, count_only: true }, callOptions)
        : client.kv.range(
            { key: from, range_end: end, limit, ...(options.keysOnly ? { keys_only: true } : {}) },
            callOptions,
          ),
    );
    return {
      items: from === undefined ? [] : value.kvs.map(toKeyValue),
      revision: value.header.revision,
      more: from !== undefined && value.more,
    };
  }

  async readMany(requests: readonly ReadRequest[]): Promise<ReadManyResult> {
    const responses: ReadResponse[] = [];
    let revision: Revision | undefined;
    for (let from = 0; from < requests.length || revision === undefined; from += MAX_TXN_OPS) {
      const chunk = requests.slice(from, from + MAX_TXN_OPS);
      // A Txn without compares runs its success branch: every range at one revision.
      const { value } = await this.pool.call(`read ${chunk.length} keys`, (client, options) =>
        client.kv.txn({ compare: [], success: chunk.map(rangeOp), failure: [] }, options),
      );
      revision ??= value.header.revision;
      chunk.forEach((request, i) => {
        const range = value.responses[i]?.response_range;
        const kvs = (range?.kvs ?? []).map(toKeyValue);
        responses.push('get' in request ? { kv: kvs[0] } : { items: kvs, more: !!range?.more });
      });
    }
    return { responses, revision };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const what = `create ${key}`;
    const { response, ambiguous } = await this.runTxn(what, {
      compare: [compareAbsent(key)],
      success: [putOp(key, value)],
      failure: [readOp(key)],
    });
    if (response.succeeded) return { key, value, revision: response.header.revision };
    if (ambiguous) throw outcomeUnknown(what, key);
    const existing = readBack(response, 0);
    throw new CidrpoolError('DS_ALREADY_EXISTS', `${key} already exists`, {
      details: { key, revision: existing?.mod_revision },
    });
  }

  async update(key: string, value: string, expectedRevision: Revision): Promise<KeyValue> {
    checkRevision(key, expectedRevision);
    const what = `update ${key}`;
    const { response, ambiguous } = await this.runTxn(what, {
      compare: [compareRevision(key, expectedRevision)],
      success: [putOp(key, value)],
      failure: [readOp(key)],
    });
    if (response.succeeded) return { key, value, revision: response.header.revision };
    if (ambiguous) throw outcomeUnknown(what, key);
    throw casFailure(key, expectedRevision, readBack(response, 0));
  }

  async put(key: string, value: string): Promise<KeyValue> {
    // An unconditional put is idempotent: a retry after an ambiguous failure is harmless.
    const { value: response } = await this.pool.call(
      `put ${key}`,
      (client, options) =>
        client.kv.put({ key: encodeKey(key), value: Buffer.from(value) }, options),
      true,
    );
    return { key, value, revision: response.header.revision };
  }

  async delete(key: string, expectedRevision?: Revision): Promise<void> {
    const what = `delete ${key}`;
    if (expectedRevision === undefined) {
      const { value: response, ambiguous } = await this.pool.call(
        what,
        (client, options) => client.kv.deleteRange({ key: encodeKey(key) }, options),
        true,
      );
      // After an ambiguous attempt, "nothing to delete" may mean our first attempt deleted it:
      // either way the key is gone, which is what an unconditional delete asks for.
      if (response.deleted === '0' && !ambiguous) {
        throw new CidrpoolError('DS_NOT_FOUND', `${key} does not exist`, { details: { key } });
      }
      return;
    }
    checkRevision(key, expectedRevision);
    const { response, ambiguous } = await this.runTxn(what, {
      compare: [compareRevision(key, expectedRevision)],
      success: [deleteOp(key)],
      failure: [readOp(key)],
    });
    if (response.succeeded) return;
    if (ambiguous) throw outcomeUnknown(what, key);
    throw casFailure(key, expectedRevision, readBack(response, 0));
  }

  async txn(
    conditions: readonly TxnCondition[],
    operations: readonly TxnOperation[],
  ): Promise<TxnResult> {
    for (const condition of conditions) {
      if ('revision' in condition) checkRevision(condition.key, condition.revision);
    }
    const what = `transaction on ${conditions.map((c) => c.key).join(', ') || '(no conditions)'}`;
    const { response, ambiguous } = await this.runTxn(what, {
      compare: conditions.map((c) =>
        'revision' in c ? compareRevision(c.key, c.revision) : compareAbsent(c.key),
      ),
      success: operations.map((op) =>
        op.op === 'put' ? putOp(op.key, op.value) : deleteOp(op.key),
      ),
      failure: conditions.map((c) => readOp(c.key)),
    });
    if (response.succeeded) return { revision: response.header.revision };
    const failedAt = conditions.findIndex((condition, i) => {
      const current = readBack(response, i);
      return 'revision' in condition
        ? current?.mod_revision !== condition.revision
        : current !== undefined;
    });
    const failed = conditions[Math.max(0, failedAt)]!;
    if (ambiguous) throw outcomeUnknown(what, failed.key);
    const found = readBack(response, Math.max(0, failedAt));
    const expected = 'revision' in failed ? `revision ${failed.revision}` : 'absent';
    const actual = found ? `revision ${found.mod_revision}` : 'absent';
    throw new CidrpoolError(
      'DS_CONFLICT',
      `transaction condition failed: ${failed.key} expected ${expected}, found ${actual}`,
      { details: { key: failed.key, revision: found?.mod_revision } },
    );
  }

  watch(
    prefix: string,
    afterRevision: Revision,
    onEvent: (event: WatchEvent) => void,
    onError?: (error: Error) => void,
  ): Watcher {
    if (this.closed)
      throw new CidrpoolError('DS_UNAVAILABLE', `watch ${prefix}: the etcd store is closed`);
    const watch = this.openWatch(prefix, afterRevision, onEvent, onError, () =>
      this.watches.delete(watch),
    );
    this.watches.add(watch);
    watch.start();
    return watch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches].map((watch) => watch.close()));
    this.pool.close();
  }

  private async runTxn(
    what: string,
    request: ITxnRequest,
  ): Promise<{ response: ITxnResponse; ambiguous: boolean }> {
    const { value, ambiguous } = await this.pool.call(
      what,
      (client, options) => client.kv.txn(request, options),
      true,
    );
    return { response: value, ambiguous };
  }
}
