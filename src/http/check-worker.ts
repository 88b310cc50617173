// The dashboard's `ipam check` in a worker thread. A check of 64,000 blocks takes 10 s to over a
// minute of CPU in long synchronous stretches; on the server's own thread it would hold up every
// request and live update meanwhile. The worker opens its own connection to the same datastore
// (etcd client, or a second SQLite connection: WAL lets it read beside the writer) and answers each
// `check` message with the CheckPart, or with the error's message.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { openDatastore } from '../datastore/open.js';
import { createIpam } from '../ipam/index.js';
import { readCheckPart, type CheckPart } from './snapshot.js';

type Reply = { ok: true; part: CheckPart } | { ok: false; message: string };

/** A check runner backed by one worker thread; close() ends the thread and its connection. */
export interface CheckWorker {
  /** Run `ipam check` (and the borrowed and Node listings) in the worker. Throws its DS_* errors as Error. */
  run(): Promise<CheckPart>;
  close(): Promise<void>;
}

/** Start the worker for the datastore of `config`. */
export function startCheckWorker(config: DatastoreConfig): CheckWorker {
  const worker = new Worker(new URL(import.meta.url), { workerData: { config } });
  worker.unref();
  let pending: { resolve: (p: CheckPart) => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error): void => {
    pending?.reject(err);
    pending = undefined;
  };
  worker.on('message', (reply: Reply) => {
    if (reply.ok) pending?.resolve(reply.part);
    else pending?.reject(new Error(reply.message));
    pending = undefined;
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the check worker exited with ${code}`)));
  return {
    run() {
      if (pending) return Promise.reject(new Error('a check is already running'));
      return new Promise<CheckPart>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage('check');
      });
    },
    async close() {
      worker.postMessage('close');
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        setTimeout(() => void worker.terminate(), 5000).unref();
      });
    },
  };
}

/** Inside the worker: one store, one check at a time, until `close`. */
async function serve(config: DatastoreConfig): Promise<void> {
  const port = parentPort!;
  const store = await openDatastore(config);
  const ipam = createIpam(store);
  port.on('message', (message: string) => {
    if (message === 'close') {
      void store.close().finally(() => port.close());
      return;
    }
    readCheckPart(store, ipam, Date.now).then(
      (part) => port.postMessage({ ok: true, part } satisfies Reply),
      (err: Error) => port.postMessage({ ok: false, message: err.message } satisfies Reply),
    );
  });
}

if (parentPort && (workerData as { config?: DatastoreConfig } | undefined)?.config)
  await serve((workerData as { config: DatastoreConfig }).config);
