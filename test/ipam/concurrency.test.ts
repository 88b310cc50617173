// Eight OS processes, one host each, allocate 500 addresses apiece (with random releases)
// against one datastore, on the embedded store and on etcd: no address may be held twice, and
// `ipam check` plus the invariant scan must come out clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { createIpam } from '../../src/ipam/index.js';
import { startEtcd } from '../helpers/etcd-cluster.js';
import type { IpamWorkerJob, IpamWorkerResult } from '../helpers/ipam-worker.js';
import { putNode, putPool, scanInvariants, allocatedAddresses } from '../helpers/ipam-fixtures.js';

const WORKER = fileURLToPath(new URL('../helpers/ipam-worker.js', import.meta.url));
const HOSTS = 8;
const ALLOCATIONS = 500;

async function runWorkers(config: DatastoreConfig): Promise<IpamWorkerResult[]> {
  const children = Array.from({ length: HOSTS }, (_, i) => {
    const job: IpamWorkerJob = {
      host: `host-${i}`,
      allocations: ALLOCATIONS,
      releaseEvery: 5,
      seed: 1000 + i,
      parallel: 4,
    };
    const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], {
      env: { ...process.env, CIDRPOOL_STORE_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    const output: string[] = [];
    const ready = new Promise<void>((resolve) =>
      lines.on('line', (l) => (l === 'ready' ? resolve() : output.push(l))),
    );
    const done = new Promise<IpamWorkerResult>((resolve, reject) =>
      child.on('exit', (code) =>
        code === 0
          ? resolve(JSON.parse(output.at(-1) ?? '{}') as IpamWorkerResult)
          : reject(new Error(`worker ${i} exited ${code}: ${stderr}`)),
      ),
    );
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.write('go\n');
  return Promise.all(children.map((c) => c.done));
}

async function verify(config: DatastoreConfig, results: IpamWorkerResult[]): Promise<void> {
  const store = await openDatastore(config);
  try {
    const all = results.flatMap((r) => Object.values(r.held));
    assert.equal(new Set(all).size, all.length, 'an address was handed to two holders');
    assert.deepEqual(
      results.flatMap((r) => r.shortfalls),
      [],
    );
    assert.deepEqual(await scanInvariants(store), []);
    const allocated = await allocatedAddresses(store);
    assert.deepEqual([...allocated].sort(), all.map((ip) => ip.split('/')[0]!).sort());
    const report = await createIpam(store).check();
    assert.equal(report.invalidBlocks.length, 0);
    assert.deepEqual(report.missingHandles, []);
    assert.deepEqual(report.leakedHandles, []);
  } finally {
    await store.close();
  }
}

async function seed(config: DatastoreConfig): Promise<void> {
  const store = await openDatastore(config);
  try {
    // A /19 with /26 blocks: 128 blocks for 8 hosts that each need about 8, so the hosts' walks
    // (which start at FNV-seeded places) meet and race for the same CIDRs.
    await putPool(store, 'pool-a', { cidr: '10.10.0.0/19' });
    for (let i = 0; i < HOSTS; i++) await putNode(store, `host-${i}`);
  } finally {
    await store.close();
  }
}

test(
  '8 processes x 500 allocations on the embedded store: no duplicates, clean check',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cidrpool-ipam-conc-'));
    const config: DatastoreConfig = { type: 'embedded', dataDir: dir, synchronous: 'normal' };
    try {
      await seed(config);
      const results = await runWorkers(config);
      await verify(config, results);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  '8 processes x 500 allocations on etcd: no duplicates, clean check',
  { timeout: 120_000 },
  async () => {
    const etcd = await startEtcd({ members: 1 });
    try {
      const config: DatastoreConfig = { type: 'etcdv3', endpoints: etcd.endpoints };
      await seed(config);
      const results = await runWorkers(config);
      await verify(config, results);
    } finally {
      await etcd.stop();
    }
  },
);
