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

/** Every item under a prefix, following pages. */
export async function listAll(
  store: Datastore,
  prefix: string,
  pageSize = 1000,
): Promise<KeyValue[]> {
  const all: KeyValue[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { limit: pageSize, startAfter });
    all.push(...page.items);
    if (!page.more || page.items.length === 0) return all;
    startAfter = page.items[page.items.length - 1]!.key;
  }
}
