// The revisioned key-value store every backend implements (embedded SQLite, etcd v3).
// CONTRACT shared by datastore/, ipam/, client/, cli/, cni/.
//
// Revisions are opaque decimal strings. A key's revision is its etcd-style mod revision: it
// changes on every write of that key, and all keys written by one transaction share one revision.
// Errors are CidrpoolError with codes:
//   DS_NOT_FOUND, DS_ALREADY_EXISTS, DS_CONFLICT (stale revision; retryable),
//   DS_UNAVAILABLE (retryable), DS_CORRUPT (details.key), DS_CONFIG (bad configuration).

export type Revision = string;

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Mod revision of this key. */
  readonly revision: Revision;
}

export interface ListOptions {
  /** At most this many items (a page). Default: all. */
  readonly limit?: number;
  /** Start strictly after this key (for paging). */
  readonly startAfter?: string;
  /**
   * Keys and revisions only: every item's value is ''. For callers that need the names under a
   * big prefix, not the values (embedded: the value column is not read; etcd: a keys_only range).
   */
  readonly keysOnly?: boolean;
}

export interface ListResult {
  /** In byte order of the keys. */
  readonly items: KeyValue[];
  /** The store's revision at the time of the read (use it to watch from). */
  readonly revision: Revision;
  /** True when `limit` cut the list: call again with startAfter = last key. */
  readonly more: boolean;
}

/** A condition of a transaction: the key is at this revision, or the key is absent. */
export type TxnCondition =
  | { readonly key: string; readonly revision: Revision }
  | { readonly key: string; readonly absent: true };

export type TxnOperation =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string };

export interface TxnResult {
  /** The revision every key put by the transaction now has. */
  readonly revision: Revision;
}

/** One read of a `readMany` batch: a key, or the first page of a prefix. */
export type ReadRequest =
  { readonly get: string } | { readonly list: string; readonly limit?: number };

/** The answer to one ReadRequest, in the same position. */
export type ReadResponse =
  { readonly kv: KeyValue | undefined } | { readonly items: KeyValue[]; readonly more: boolean };

export interface ReadManyResult {
  readonly responses: ReadResponse[];
  /** The store's revision at which every read was made. */
  readonly revision: Revision;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The new value (put only). */
  readonly value?: string;
  readonly revision: Revision;
}

export interface Watcher {
  close(): Promise<void>;
}

export interface Datastore {
  /** `embedded` or `etcdv3`. */
  readonly type: 'embedded' | 'etcdv3';
  /** One key, or undefined when absent. */
  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /**
   * Several gets and lists in one round trip, all at one revision (etcd: one read-only Txn,
   * so up to 128 requests, etcd's default --max-txn-ops; a larger batch is read 128 at a time;
   * embedded: one read transaction). A list answers its first `limit` keys (default: all) and
   * says whether there are `more`; `readAll` follows those pages.
   */
  readMany(requests: readonly ReadRequest[]): Promise<ReadManyResult>;
  /** Create if absent. Throws DS_ALREADY_EXISTS. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Write if the key is at `expectedRevision`. Throws DS_CONFLICT, or DS_NOT_FOUND when absent. */
  update(key: string, value: string, expectedRevision: Revision): Promise<KeyValue>;
  /** Unconditional write (Calico's Apply). */
  put(key: string, value: string): Promise<KeyValue>;
  /** Delete; with `expectedRevision` only if the key is at it. Throws DS_NOT_FOUND, DS_CONFLICT. */
  delete(key: string, expectedRevision?: Revision): Promise<void>;
  /**
   * All conditions hold -> every operation applies, atomically. Otherwise nothing is written and
   * DS_CONFLICT is thrown with `details.key` naming the first condition that failed.
   */
  txn(conditions: readonly TxnCondition[], operations: readonly TxnOperation[]): Promise<TxnResult>;
  /** Events for keys under `prefix` with revision > `afterRevision`, in order. */
  watch(
    prefix: string,
    afterRevision: Revision,
    onEvent: (event: WatchEvent) => void,
    onError?: (error: Error) => void,
  ): Watcher;
  close(): Promise<void>;
}

/**
 * The pages of the listing under `prefix` (each `limit` items, `startAfter` the first page's
 * start), in key order; each page is read when the previous one has been consumed.
 */
export async function* listPages(
  store: Datastore,
  prefix: string,
  options: ListOptions = {},
): AsyncGenerator<ListResult> {
  let startAfter = options.startAfter;
  for (;;) {
    const page = await store.list(prefix, { ...options, startAfter });
    yield page;
    if (!page.more || page.items.length === 0) return;
    startAfter = page.items[page.items.length - 1]!.key;
  }
}

/** Every item under a prefix, following pages. */
export async function listAll(
  store: Datastore,
  prefix: string,
  pageSize = 1000,
  keysOnly = false,
): Promise<KeyValue[]> {
  const all: KeyValue[] = [];
  for await (const page of listPages(store, prefix, { limit: pageSize, keysOnly })) {
    all.push(...page.items);
  }
  return all;
}

/** Every key under a prefix with its revision (values ''), following pages. */
export const listKeys = (store: Datastore, prefix: string, pageSize = 1000): Promise<KeyValue[]> =>
  listAll(store, prefix, pageSize, true);

/** The value of a get of a `readMany` batch (undefined when absent). */
export function readKv(response: ReadResponse | undefined): KeyValue | undefined {
  return response && 'kv' in response ? response.kv : undefined;
}

/**
 * `readMany`, then every list's remaining pages (each page a separate read, as `listAll`).
 * Returns the items of each request: one or none for a get, every key for a list.
 */
export async function readAll(
  store: Datastore,
  requests: readonly ReadRequest[],
  pageSize = 1000,
): Promise<KeyValue[][]> {
  const batch = await store.readMany(
    requests.map((r) => ('list' in r ? { list: r.list, limit: pageSize } : r)),
  );
  return Promise.all(
    batch.responses.map(async (response, i) => {
      if ('kv' in response) return response.kv ? [response.kv] : [];
      const items = [...response.items];
      if (!response.more || items.length === 0) return items;
      const prefix = (requests[i] as { list: string }).list;
      const rest = { limit: pageSize, startAfter: items[items.length - 1]!.key };
      for await (const page of listPages(store, prefix, rest)) items.push(...page.items);
      return items;
    }),
  );
}
