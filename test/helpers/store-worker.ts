// A child process of the datastore conformance suite: opens the datastore described by the
// CIDRPOOL_STORE_CONFIG environment variable (JSON DatastoreConfig), prints `ready`, waits for
// `go` on stdin, then performs CAS increments and prints one JSON line with what it did.
//
// Job (argv[2], JSON): { prefix, counters, iterations }. Every iteration increments, in ONE
// transaction, the counter `${prefix}counter-${i % counters}` and the shared `${prefix}total`,
// with a revision (or absent) condition on both, retrying on DS_CONFLICT / DS_UNAVAILABLE.
import { createInterface } from 'node:readline';
import type { Datastore, TxnCondition } from '../../src/datastore/api.js';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { isCidrpoolError } from '../../src/errors/index.js';

export interface StoreWorkerJob {
  readonly prefix: string;
  readonly counters: number;
  readonly iterations: number;
}

export interface StoreWorkerResult {
  /** The revision of every successful transaction, in order. */
  readonly revisions: string[];
  /** How many attempts failed with a retryable error. */
  readonly retries: number;
}

/** Attempts per increment before the worker gives up (a lost race every time is a bug). */
const MAX_ATTEMPTS = 10_000;

function conditionFor(store: Datastore, key: string) {
  return store.get(key).then((kv) => ({
    value: kv ? Number(kv.value) : 0,
    condition: (kv ? { key, revision: kv.revision } : { key, absent: true }) as TxnCondition,
  }));
}

async function incrementPair(store: Datastore, keys: readonly string[]): Promise<[string, number]> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const reads = await Promise.all(keys.map((key) => conditionFor(store, key)));
      // Yield to the event loop between read and write: this widens the window in which other
      // processes write the same keys, so conflicts (and lost updates, if any) really happen.
      await new Promise((resolve) => setImmediate(resolve));
      const result = await store.txn(
        reads.map((read) => read.condition),
        keys.map((key, i) => ({ op: 'put' as const, key, value: String(reads[i]!.value + 1) })),
      );
      return [result.revision, attempt];
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT', 'DS_UNAVAILABLE')) throw err;
    }
  }
  throw new Error(`no increment of ${keys.join(', ')} succeeded in ${MAX_ATTEMPTS} attempts`);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as StoreWorkerJob;
  const config = JSON.parse(process.env['CIDRPOOL_STORE_CONFIG'] ?? '') as DatastoreConfig;
  const store = await openDatastore(config);
  try {
    const lines = createInterface({ input: process.stdin });
    const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
    process.stdout.write('ready\n');
    await go;
    lines.close();
    const revisions: string[] = [];
    let retries = 0;
    for (let i = 0; i < job.iterations; i++) {
      const keys = [`${job.prefix}counter-${i % job.counters}`, `${job.prefix}total`];
      const [revision, failed] = await incrementPair(store, keys);
      revisions.push(revision);
      retries += failed;
    }
    process.stdout.write(`${JSON.stringify({ revisions, retries } satisfies StoreWorkerResult)}\n`);
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`store-worker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
