// A Datastore that answers the node agent's IPAM reads from a watch-fed copy of what one node's
// allocations read (docs/node-agent.md, "## IPAM socket and metrics"), so that the engine's
// read batch before a write costs no round trip and an allocation is one conditional write.
//
// Why this is safe: every IPAM write is a compare-and-swap on the revisions it read. A copy that
// is behind the datastore (another node, the CLI, a watch event still on its way) can only make
// a write fail with DS_CONFLICT; the key that failed is then marked stale and read from the
// datastore on the engine's retry. Writes made through this store update the copy at once.
//
// What it watches: a few small prefixes (pools, reservations, this node's affinities) and keys
// (config, this Node), and each of this node's blocks on its own, opened and closed as the
// affinities come and go. A watch of every block would bring every allocation of the cluster
// to every agent (the agent would keep one in N of them): with 100 agents' engines in one
// process the block events were 100 per allocation, queued behind the writes
// (docs/benchmarks.md section 14).
import {
  type Datastore,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type ReadManyResult,
  type ReadRequest,
  type ReadResponse,
  type Revision,
  type TxnCondition,
  type TxnOperation,
  type TxnResult,
  type Watcher,
  type WatchEvent,
} from '../datastore/api.js';
import { isCidrpoolError } from '../errors/index.js';

/** What the copy holds. */
export interface CacheScope {
  /** Prefixes held completely: a key absent from the copy is absent from the datastore. */
  readonly prefixes: readonly string[];
  /** Single keys held completely (watched through their prefix, filtered exactly). */
  readonly keys: readonly string[];
  /**
   * Keys followed one by one: while a key held under `prefixes` names one (`named` returns it;
   * an affinity names its block), that key is watched on its own and held once read or written
   * at or after the revision its watch starts from, so no event between a value and its watch
   * is missed. A followed key missing from the copy is read from the datastore.
   */
  readonly named?: (key: string) => string | undefined;
}

/** What the cache reports (metrics). */
export interface CacheEvents {
  onResync?(reason: string): void;
  /** One datastore round trip, its duration and whether it succeeded. */
  onRoundTrip?(kind: 'read' | 'write', seconds: number, ok: boolean): void;
  /** One read of a caller, answered from the copy (hit) or by the datastore. */
  onRead?(hit: boolean): void;
}

const newer = (a: Revision, b: Revision) => BigInt(a) > BigInt(b);
const byKey = (a: KeyValue, b: KeyValue) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The cache over `store`; call `start()` before use and `stop()` at the end. */
export class CachedStore implements Datastore {
  readonly type: Datastore['type'];
  private readonly entries = new Map<string, KeyValue>();
  /** Keys the copy is known to be behind on: read from the datastore until read again. */
  private readonly stale = new Set<string>();
  /** Keys a caller presumes absent for its next read (a new CNI handle): no read, CAS checks. */
  private readonly presumedAbsent = new Set<string>();
  private watchers: Watcher[] = [];
  /** Keys named by held keys, each with its own watch and the revision it watches after. */
  private readonly followed = new Map<string, { watcher: Watcher; from: bigint }>();
  private revision: Revision = '0';
  private synced = false;
  private stopped = false;
  private resyncing: Promise<void> | undefined;

  constructor(
    private readonly store: Datastore,
    private readonly scope: CacheScope,
    private readonly events: CacheEvents = {},
  ) {
    this.type = store.type;
  }

  /** Watch streams open now. */
  get watchCount(): number {
    return this.watchers.length + this.followed.size;
  }

  /** True once the first listing is in and the watches run. */
  get ready(): boolean {
    return this.synced && !this.stopped;
  }

  /** List everything in scope, then watch from that revision. Throws the store's errors. */
  async start(): Promise<void> {
    await this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.closeWatches().map((w) => w.close().catch(() => undefined)));
  }

  /** Forget every watch (prefixes and followed keys); returns them, to be closed. */
  private closeWatches(): Watcher[] {
    const all = [...this.watchers, ...[...this.followed.values()].map((f) => f.watcher)];
    this.watchers = [];
    this.followed.clear();
    return all;
  }

  /** The next read of `key` answers "absent" without asking the datastore (one-shot). */
  presumeAbsent(key: string): void {
    this.presumedAbsent.add(key);
  }

  forgetPresumption(key: string): void {
    this.presumedAbsent.delete(key);
  }

  private watchPrefixes(): string[] {
    return [...this.scope.prefixes, ...this.scope.keys];
  }

  private async sync(): Promise<void> {
    const prefixes = this.watchPrefixes();
    const batch = await this.timed('read', () =>
      this.store.readMany(prefixes.map((list) => ({ list }))),
    );
    // A page limit cut a listing: follow it (readMany answers all keys when no limit is given).
    this.entries.clear();
    this.stale.clear();
    batch.responses.forEach((response) => {
      if ('items' in response) for (const kv of response.items) this.keep(kv, batch.revision);
    });
    this.revision = batch.revision;
    for (const prefix of prefixes) {
      this.watchers.push(
        this.store.watch(
          prefix,
          batch.revision,
          (event) => this.apply(event),
          (err) => this.resync(String(err)),
        ),
      );
    }
    this.synced = true;
    const named: ReadRequest[] = [];
    for (const key of [...this.entries.keys()]) {
      const follows = this.scope.named?.(key);
      if (follows === undefined) continue;
      this.follow(follows, batch.revision);
      named.push({ get: follows });
    }
    // Their values now (read after their watches start), so the first allocation reads nothing.
    if (named.length > 0) {
      const values = await this.timed('read', () => this.store.readMany(named));
      named.forEach((r, i) => this.learn(r, values.responses[i]!, values.revision));
    }
  }

  /** Drop the copy and the watches and start again (after a watch error). */
  private resync(reason: string): void {
    if (this.stopped || this.resyncing) return;
    this.synced = false;
    this.events.onResync?.(reason);
    const old = this.closeWatches();
    this.resyncing = (async () => {
      await Promise.all(old.map((w) => w.close().catch(() => undefined)));
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.sync();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
        }
      }
    })().finally(() => (this.resyncing = undefined));
  }

  /**
   * Is the key in scope; undefined when not. `full`: an absent key is absent from the datastore
   * (prefixes and keys); a followed key is held only once read.
   */
  private scopeOf(key: string): { full: boolean } | undefined {
    if (this.scope.keys.includes(key)) return { full: true };
    if (this.scope.prefixes.some((p) => key.startsWith(p))) return { full: true };
    return this.followed.has(key) ? { full: false } : undefined;
  }

  /**
   * Take a value into the copy if it is in scope and newer than the one held. `knownAt` is the
   * revision at which the datastore had this value (a read's revision, a write's or event's own):
   * a followed key takes only values known at or after the start of its watch.
   */
  private keep(kv: KeyValue, knownAt: Revision = kv.revision): void {
    if (!this.scopeOf(kv.key)) return;
    const following = this.followed.get(kv.key);
    if (following && BigInt(knownAt) < following.from) return;
    const held = this.entries.get(kv.key);
    if (held && !newer(kv.revision, held.revision)) return;
    this.entries.set(kv.key, kv);
    const named = this.scope.named?.(kv.key);
    if (named !== undefined) this.follow(named, knownAt);
  }

  private forget(key: string, revision: Revision): void {
    const held = this.entries.get(key);
    if (held && newer(held.revision, revision)) return;
    this.entries.delete(key);
    const named = this.scope.named?.(key);
    if (named !== undefined) this.unfollow(named);
  }

  /** Watch `key` after revision `from` (the revision its naming key was known at). */
  private follow(key: string, from: Revision): void {
    if (this.followed.has(key) || this.stopped || !this.synced) return;
    const watcher = this.store.watch(
      key,
      from,
      (event) => {
        if (event.key === key) this.apply(event);
      },
      (err) => this.resync(String(err)),
    );
    this.followed.set(key, { watcher, from: BigInt(from) });
  }

  private unfollow(key: string): void {
    const following = this.followed.get(key);
    if (!following) return;
    this.followed.delete(key);
    this.entries.delete(key);
    this.stale.delete(key);
    void following.watcher.close().catch(() => undefined);
  }

  private apply(event: WatchEvent): void {
    if (newer(event.revision, this.revision)) this.revision = event.revision;
    if (event.type === 'put') {
      this.keep({ key: event.key, value: event.value ?? '', revision: event.revision });
    } else {
      this.forget(event.key, event.revision);
    }
  }

  /** The cached answer to a read, or undefined when the datastore must answer it. */
  private answer(request: ReadRequest): ReadResponse | undefined {
    if (!this.ready) return undefined;
    if ('get' in request) {
      const key = request.get;
      if (this.presumedAbsent.delete(key)) return { kv: undefined };
      if (this.stale.has(key)) return undefined;
      const scope = this.scopeOf(key);
      if (!scope) return undefined;
      const kv = this.entries.get(key);
      return kv || scope.full ? { kv } : undefined;
    }
    const prefix = request.list;
    const held = this.scope.prefixes.some((p) => prefix.startsWith(p));
    if (!held || [...this.stale].some((k) => k.startsWith(prefix))) return undefined;
    const items = [...this.entries.values()].filter((kv) => kv.key.startsWith(prefix)).sort(byKey);
    const limit = request.limit ?? items.length;
    return { items: items.slice(0, limit), more: items.length > limit };
  }

  /** Refresh the copy from what the datastore answered at `revision`. */
  private learn(request: ReadRequest, response: ReadResponse, revision: Revision): void {
    if ('get' in request && 'kv' in response) {
      this.stale.delete(request.get);
      if (response.kv) this.keep(response.kv, revision);
      else if (this.scopeOf(request.get)) this.forget(request.get, revision);
    } else if ('list' in request && 'items' in response) {
      for (const kv of response.items) {
        this.stale.delete(kv.key);
        this.keep(kv, revision);
      }
    }
  }

  private suspect(err: unknown, keys: readonly string[]): void {
    if (!isCidrpoolError(err, 'DS_CONFLICT', 'DS_NOT_FOUND', 'DS_ALREADY_EXISTS')) return;
    const named = typeof err.details.key === 'string' ? [err.details.key] : keys;
    for (const key of named) {
      this.presumedAbsent.delete(key);
      if (this.scopeOf(key)) this.stale.add(key);
    }
  }

  async readMany(requests: readonly ReadRequest[]): Promise<ReadManyResult> {
    const answers = requests.map((r) => this.answer(r));
    const missing = requests.filter((_, i) => answers[i] === undefined);
    for (const a of answers) this.events.onRead?.(a !== undefined);
    if (missing.length === 0) {
      return { responses: answers as ReadResponse[], revision: this.revision };
    }
    const fresh = await this.timed('read', () => this.store.readMany(missing));
    let next = 0;
    const responses = requests.map((r, i) => {
      if (answers[i] !== undefined) return answers[i]!;
      const response = fresh.responses[next++]!;
      this.learn(r, response, fresh.revision);
      return response;
    });
    return { responses, revision: fresh.revision };
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const response = (await this.readMany([{ get: key }])).responses[0]!;
    return 'kv' in response ? response.kv : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    if (options.startAfter === undefined && !options.keysOnly) {
      const cached = this.answer({ list: prefix, limit: options.limit });
      this.events.onRead?.(cached !== undefined);
      if (cached && 'items' in cached)
        return { items: cached.items, more: cached.more, revision: this.revision };
    }
    const result = await this.timed('read', () => this.store.list(prefix, options));
    if (!options.keysOnly) for (const kv of result.items) this.keep(kv, result.revision);
    return result;
  }

  private async timed<T>(kind: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let ok = false;
    try {
      const result = await fn();
      ok = true;
      return result;
    } finally {
      this.events.onRoundTrip?.(kind, Number(process.hrtime.bigint() - start) / 1e9, ok);
    }
  }

  private async write<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    try {
      return await this.timed('write', fn);
    } catch (err) {
      this.suspect(err, keys);
      throw err;
    }
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const kv = await this.write([key], () => this.store.create(key, value));
    this.keep(kv);
    return kv;
  }

  async update(key: string, value: string, expectedRevision: Revision): Promise<KeyValue> {
    const kv = await this.write([key], () => this.store.update(key, value, expectedRevision));
    this.keep(kv);
    return kv;
  }

  async put(key: string, value: string): Promise<KeyValue> {
    const kv = await this.write([key], () => this.store.put(key, value));
    this.keep(kv);
    return kv;
  }

  async delete(key: string, expectedRevision?: Revision): Promise<void> {
    await this.write([key], () => this.store.delete(key, expectedRevision));
    const held = this.entries.get(key);
    this.forget(key, held?.revision ?? '0');
  }

  async txn(
    conditions: readonly TxnCondition[],
    operations: readonly TxnOperation[],
  ): Promise<TxnResult> {
    const result = await this.write(
      conditions.map((c) => c.key),
      () => this.store.txn(conditions, operations),
    );
    for (const op of operations) {
      if (op.op === 'put') this.keep({ key: op.key, value: op.value, revision: result.revision });
      else this.forget(op.key, result.revision);
    }
    return result;
  }

  watch(
    prefix: string,
    afterRevision: Revision,
    onEvent: (event: WatchEvent) => void,
    onError?: (error: Error) => void,
  ): Watcher {
    return this.store.watch(prefix, afterRevision, onEvent, onError);
  }

  /** The agent owns the underlying store and closes it; this only stops the watches. */
  close(): Promise<void> {
    return this.stop();
  }

  /** The values held under `prefix` (for metrics: blocks of this node). */
  held(prefix: string): KeyValue[] {
    return [...this.entries.values()].filter((kv) => kv.key.startsWith(prefix));
  }
}
