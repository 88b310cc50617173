// A long-lived process that drives the IPAM engine API for the chaos driver (issue 15), so that
// a run can reach millions of allocations without paying a process start per allocation; the
// driver kills it -9 at random moments while calls are in flight and starts another.
//
//   node dist/chaos/engine-worker.js '<DatastoreConfig as JSON>'
//
// stdin: one JSON request per line, handled concurrently:
//   {"id":1,"op":"assign","handle":"chaos.e1x0","node":"node-2","num4":16,"num6":2}
//   {"id":2,"op":"release","handle":"chaos.e1x0"}
// stdout: one JSON answer per request, written only after the engine call returned:
//   {"id":1,"ok":true,"ips":["10.200.0.5/26", ...]}   {"id":2,"ok":true}
//   {"id":3,"ok":false,"error":"DS_UNAVAILABLE: ..."}
// A release of a handle that does not exist answers ok (it holds nothing).
import { createInterface } from 'node:readline';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { openDatastore } from '../src/datastore/open.js';
import { isCidrpoolError } from '../src/errors/index.js';
import { createIpam, createProcessEnvironment } from '../src/ipam/index.js';

export interface EngineRequest {
  readonly id: number;
  readonly op: 'assign' | 'release';
  readonly handle: string;
  readonly node?: string;
  readonly num4?: number;
  readonly num6?: number;
}

export type EngineAnswer =
  | { readonly id: number; readonly ok: true; readonly ips?: string[] }
  | { readonly id: number; readonly ok: false; readonly error: string };

async function serve(config: DatastoreConfig): Promise<void> {
  const store = await openDatastore(config);
  const ipam = createIpam(store, createProcessEnvironment());
  const handle = async (request: EngineRequest): Promise<EngineAnswer> => {
    try {
      if (request.op === 'release') {
        await ipam.releaseByHandle(request.handle).catch((err: unknown) => {
          if (!isCidrpoolError(err, 'IPAM_HANDLE_NOT_FOUND')) throw err;
        });
        return { id: request.id, ok: true };
      }
      const result = await ipam.autoAssign({
        num4: request.num4 ?? 1,
        num6: request.num6 ?? 0,
        handleId: request.handle,
        hostname: request.node!,
        intendedUse: 'Workload',
        attrs: { node: request.node!, note: 'chaos' },
      });
      return { id: request.id, ok: true, ips: [...result.ipv4.ips, ...result.ipv6.ips] };
    } catch (err) {
      const code = isCidrpoolError(err) ? `${err.code}: ` : '';
      return { id: request.id, ok: false, error: `${code}${(err as Error).message}` };
    }
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    void handle(JSON.parse(line) as EngineRequest).then((answer) =>
      process.stdout.write(`${JSON.stringify(answer)}\n`),
    );
  });
  // The driver closes stdin to stop a worker that is not killed.
  await new Promise((resolve) => lines.once('close', resolve));
  await store.close();
}

serve(JSON.parse(process.argv[2] ?? '') as DatastoreConfig).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
