// A child process of the IPAM concurrency test: one host allocating against a shared datastore.
// Store: CIDRPOOL_STORE_CONFIG (JSON DatastoreConfig). Job (argv[2], JSON): IpamWorkerJob.
// Prints `ready`, waits for `go` on stdin (so every process starts at once), then performs
// `allocations` AutoAssigns of one IPv4 address, each under its own handle, releasing a random
// earlier one by handle about every `releaseEvery` allocations; prints one JSON line at the end.
import { createInterface } from 'node:readline';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { createIpam } from '../../src/ipam/index.js';
import { testEnvironment } from './ipam-fixtures.js';

export interface IpamWorkerJob {
  readonly host: string;
  readonly allocations: number;
  readonly releaseEvery: number;
  readonly seed: number;
  /** Requests in flight at once inside this process (they queue per host). */
  readonly parallel: number;
}

export interface IpamWorkerResult {
  /** handle -> address still held at the end. */
  readonly held: Record<string, string>;
  readonly released: number;
  readonly shortfalls: string[];
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as IpamWorkerJob;
  const config = JSON.parse(process.env['CIDRPOOL_STORE_CONFIG'] ?? '') as DatastoreConfig;
  const store = await openDatastore(config);
  const env = testEnvironment(job.seed, Date.now());
  const ipam = createIpam(store, {
    now: () => Date.now(),
    nowNanos: env.nowNanos,
    random: env.random,
  });
  try {
    const lines = createInterface({ input: process.stdin });
    const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
    process.stdout.write('ready\n');
    await go;
    lines.close();
    const held = new Map<string, string>();
    const shortfalls: string[] = [];
    let released = 0;
    let next = 0;
    const one = async (): Promise<void> => {
      for (let i = next++; i < job.allocations; i = next++) {
        const handleId = `k8s-pod-network.${job.host}-${i}`;
        try {
          const r = await ipam.autoAssign({
            num4: 1,
            num6: 0,
            hostname: job.host,
            handleId,
            attrs: { node: job.host, pod: `pod-${i}`, namespace: 'default' },
            intendedUse: 'Workload',
          });
          held.set(handleId, r.ipv4.ips[0]!);
        } catch (err) {
          // A shortfall keeps nothing: it is counted, not held.
          if (!isCidrpoolError(err, 'IPAM_SHORTFALL')) throw err;
          shortfalls.push(err.message);
        }
        if (job.releaseEvery > 0 && env.random() * job.releaseEvery < 1 && held.size > 0) {
          const keys = [...held.keys()];
          const victim = keys[Math.floor(env.random() * keys.length)]!;
          held.delete(victim);
          await ipam.releaseByHandle(victim);
          released++;
        }
      }
    };
    await Promise.all(Array.from({ length: job.parallel }, one));
    const result: IpamWorkerResult = { held: Object.fromEntries(held), released, shortfalls };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
