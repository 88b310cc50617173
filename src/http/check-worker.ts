// The dashboard's `ipam check` in a worker thread. A check of 64,000 blocks takes 10 s to over a
// minute of CPU in long synchronous stretches; on the server's own thread it would hold up every
// request and live update meanwhile. The worker opens its own connection to the same datastore
// (etcd client, or a second SQLite connection: WAL lets it read beside the writer). It keeps the
// last report: only its counts, problems and per-node figures cross to the server thread (the
// per-address details of a big store are a million objects, slower to copy than to scan), and
// searches are answered here, next to the details.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { openDatastore } from '../datastore/open.js';
import { createIpam, type CheckReport } from '../ipam/index.js';
import { matchAllocations, type AllocationMatches } from './search.js';
import { readCheckPart, type CheckPart } from './snapshot.js';

/** Runs the check part and searches its details (LiveModelOptions.checker). */
export interface CheckRunner {
  /** Run `ipam check` (and the borrowed and Node listings). Throws DS_* errors (as Error). */
  run(): Promise<CheckPart>;
  /** Match `query` in the last check's per-address details (none before the first check). */
  search(query: string): Promise<AllocationMatches>;
}

/** A CheckRunner backed by one worker thread; close() ends the thread and its connection. */
export interface CheckWorker extends CheckRunner {
  close(): Promise<void>;
}

type Question =
  | { readonly kind: 'check' }
  | { readonly kind: 'search'; readonly query: string }
  | { readonly kind: 'close' };
type Request = Question & { readonly id: number };
type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string };

/**
 * Start the worker for the datastore of `config`. A worker that died (its store could not be
 * opened, or it crashed) fails its pending questions and is started again by the next one.
 */
export function startCheckWorker(config: DatastoreConfig): CheckWorker {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  let current: { worker: Worker; exited: Promise<void> } | undefined;
  const spawn = (): { worker: Worker; exited: Promise<void> } => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { config } });
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', (code) => {
        if (current?.worker === worker) current = undefined;
        failAll(new Error(`the check worker exited with ${code}`));
        resolve();
      }),
    );
    worker.on('message', (reply: Reply) => {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply.value);
      else p?.reject(new Error(reply.message));
    });
    worker.on('error', failAll);
    return { worker, exited };
  };
  const ask = <T>(question: Question): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      (current ??= spawn()).worker.postMessage({ ...question, id });
    });
  return {
    run: () => ask<CheckPart>({ kind: 'check' }),
    search: (query) => ask<AllocationMatches>({ kind: 'search', query }),
    async close() {
      if (!current) return;
      const { worker, exited } = current;
      const timer = setTimeout(() => void worker.terminate(), 5000);
      ask({ kind: 'close' }).catch(() => undefined);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The report without its per-address details (`allocations`, `leakedIps`, `workloadIps`,
 * `staleEndpoints`, built lazily and huge on a big store): what the server thread reads.
 */
function countsOnly(report: CheckReport): CheckReport {
  return {
    blocks: [],
    allocationCount: report.allocationCount,
    activePools: report.activePools,
    nodeTunnelIps: report.nodeTunnelIps,
    workloadIps: [],
    inUseCount: report.inUseCount,
    topNodes: report.topNodes,
    nodeAllocations: report.nodeAllocations,
    ...(report.maxNodeAllocations !== undefined
      ? { maxNodeAllocations: report.maxNodeAllocations }
      : {}),
    ...(report.medianNodeAllocations !== undefined
      ? { medianNodeAllocations: report.medianNodeAllocations }
      : {}),
    leakedIps: [],
    multipleOwners: report.multipleOwners,
    notInPool: report.notInPool,
    noAllocation: report.noAllocation,
    leakedHandles: report.leakedHandles,
    handlesWithIps: report.handlesWithIps,
    missingHandles: report.missingHandles,
    invalidBlocks: report.invalidBlocks,
    allocations: {},
    leakedCount: report.leakedCount,
    staleEndpoints: [],
    foreignEndpointCount: report.foreignEndpointCount,
    problemCount: report.problemCount,
  };
}

/** Inside the worker: one store, the last report, until `close`. */
async function serve(config: DatastoreConfig): Promise<void> {
  const port = parentPort!;
  const store = await openDatastore(config);
  const ipam = createIpam(store);
  let last: CheckReport | undefined;
  const answer = async (request: Request): Promise<unknown> => {
    switch (request.kind) {
      case 'check': {
        const part = await readCheckPart(store, ipam, Date.now);
        last = part.report;
        return { ...part, report: countsOnly(part.report) };
      }
      case 'search':
        return last ? matchAllocations(last.allocations, request.query) : { matches: [], total: 0 };
      case 'close':
        await store.close();
        port.close();
        return undefined;
    }
  };
  port.on('message', (request: Request) => {
    answer(request).then(
      (value) => {
        if (request.kind !== 'close') port.postMessage({ id: request.id, ok: true, value });
      },
      (err: Error) => port.postMessage({ id: request.id, ok: false, message: err.message }),
    );
  });
}

if (parentPort && (workerData as { config?: DatastoreConfig } | undefined)?.config)
  await serve((workerData as { config: DatastoreConfig }).config);
