// Issue 15, item 2: no WorkloadEndpoint names an address it does not hold. The writes are
// ordered (endpoint deleted before its addresses are released; written after they are
// assigned, only while the handle is unchanged), `ipam check` counts an endpoint on another
// handle's address, and `ipam release --from-report` deletes it. Real CLI and plugin, embedded store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildWorkloadEndpoint,
  findEndpoint,
  writeEndpoint,
} from '../../src/client/workload-endpoint.js';
import type { Datastore, WatchEvent } from '../../src/datastore/api.js';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { BLOCKS_PREFIX, resourceKey } from '../../src/datastore/keys.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { runCli } from '../cli/support.js';
import { datastoreKeys, runPlugin, seedStore, withStore } from '../cni/support.js';

/** Every event under /calico/ after `revision`, once `done` says the list is complete (bounded). */
async function eventsAfter(
  store: Datastore,
  revision: string,
  done: (events: readonly WatchEvent[]) => boolean,
): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  let failure: Error | undefined;
  const watcher = store.watch(
    '/calico/',
    revision,
    (e) => events.push(e),
    (e) => (failure = e),
  );
  try {
    for (let i = 0; i < 200 && !done(events) && !failure; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
  } finally {
    await watcher.close();
  }
  if (failure) throw failure;
  return events;
}

const revisionOf = async (store: Datastore): Promise<string> =>
  (await store.readMany([{ get: '/calico/none' }])).revision;

/** Position of the first event matching `test`, or -1. */
const firstIndex = (events: readonly WatchEvent[], test: (e: WatchEvent) => boolean) =>
  events.findIndex(test);

const isEndpointDelete = (e: WatchEvent) =>
  e.type === 'delete' && e.key.includes('/workloadendpoints/');
const isBlockWrite = (e: WatchEvent) => e.key.startsWith(BLOCKS_PREFIX);

describe('endpoints never outlive their addresses (embedded store)', () => {
  let dir: string;
  let ds: DatastoreConfig;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) => runCli(args, env);
  const cliOk = async (args: string[]) => {
    const r = await cli(args);
    assert.equal(r.code, 0, `cidrpool ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cp15-endpoints-'));
    ds = { type: 'embedded', dataDir: join(dir, 'data') };
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CIDRPOOL_DATA_DIR: ds.dataDir };
    await withStore(ds, (store) =>
      seedStore(store, {
        pools: [{ name: 'pool-a', cidr: '10.70.0.0/24', blockSize: 29 }],
        nodes: [{ name: 'node-a' }],
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ipam release --handle deletes the endpoint before it frees the addresses', async () => {
    await cliOk(['ipam', 'assign', '--node', 'node-a', '--pod', 'p1', '--handle', 'net.c1']);
    const start = await withStore(ds, revisionOf);
    const out = await cliOk(['ipam', 'release', '--handle', 'net.c1']);
    assert.match(out, /Deleted WorkloadEndpoint default\/node--a-k8s-p1-eth0/);
    const events = await withStore(ds, (store) =>
      eventsAfter(store, start, (ev) => ev.some(isEndpointDelete) && ev.some(isBlockWrite)),
    );
    const endpointAt = firstIndex(events, isEndpointDelete);
    const blockAt = firstIndex(events, isBlockWrite);
    assert.ok(endpointAt >= 0 && blockAt >= 0, JSON.stringify(events.map((e) => e.key)));
    assert.ok(endpointAt < blockAt, 'the endpoint goes first');
  });

  it('CNI DEL deletes the endpoint before it frees the addresses', async () => {
    const config = {
      cniVersion: '1.0.0',
      name: 'net',
      type: 'calico',
      nodename: 'node-a',
      ...datastoreKeys(ds),
      ipam: { type: 'cidrpool-ipam' },
    };
    const add = await runPlugin({ command: 'ADD', containerId: 'c2', config });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    const start = await withStore(ds, revisionOf);
    const del = await runPlugin({ command: 'DEL', containerId: 'c2', config });
    assert.equal(del.code, 0, del.stdout + del.stderr);
    const events = await withStore(ds, (store) =>
      eventsAfter(store, start, (ev) => ev.some(isEndpointDelete) && ev.some(isBlockWrite)),
    );
    assert.ok(firstIndex(events, isEndpointDelete) >= 0, 'the endpoint was deleted');
    assert.ok(firstIndex(events, isEndpointDelete) < firstIndex(events, isBlockWrite));
  });

  it('an endpoint is written only while its handle is unchanged', async () => {
    await cliOk(['ipam', 'assign', '--node', 'node-a', '--handle', 'net.c3']);
    await withStore(ds, async (store) => {
      const wep = buildWorkloadEndpoint({
        node: 'node-a',
        workload: { orchestrator: 'cni', namespace: 'default', containerId: 'c3' },
        ifName: 'eth0',
        network: 'net',
        addresses: ['10.70.0.250/29'],
        creationTimestamp: '2026-01-01T00:00:00Z',
      });
      // A handle that is gone (its addresses released) refuses the write.
      await assert.rejects(writeEndpoint(store, wep, { heldBy: 'net.never' }), (e: unknown) =>
        isCidrpoolError(e, 'IPAM_HANDLE_NOT_FOUND'),
      );
      assert.equal(await findEndpoint(store, wep.metadata.name, 'default'), undefined);
      await writeEndpoint(store, wep, { heldBy: 'net.c3' });
      assert.ok(await findEndpoint(store, wep.metadata.name, 'default'));
      await store.delete(resourceKey('WorkloadEndpoint', wep.metadata.name, 'default'));
    });
    await cliOk(['ipam', 'release', '--handle', 'net.c3']);
  });

  it('ipam check counts an endpoint on another handle’s address; release --from-report deletes it', async () => {
    const first = JSON.parse(
      await cliOk([
        'ipam',
        'assign',
        '--node',
        'node-a',
        '--pod',
        'old',
        '--handle',
        'net.c4',
        '-o',
        'json',
      ]),
    ) as { ipv4: string[] };
    const ip = first.ipv4[0]!.split('/')[0]!;
    // What a kill between "release" and "delete endpoint" used to leave: the address freed
    // (calicoctl's `release --ip` leaves endpoints alone), then handed to another pod.
    await cliOk(['ipam', 'release', '--ip', ip]);
    await cliOk([
      'ipam',
      'assign',
      '--node',
      'node-a',
      '--pod',
      'new',
      '--handle',
      'net.c5',
      '--ip',
      ip,
    ]);

    const check = await cli(['ipam', 'check', '--show-problem-ips']);
    assert.match(check.stdout, new RegExp(`  ${ip.replace(/\./g, '\\.')} has multiple owners\\.`));
    assert.match(
      check.stdout,
      /in use by Workload\(default\/node--a-k8s-old-eth0\) is held by handle net\.c5\./,
    );
    assert.match(
      check.stdout,
      /Found 1 workload endpoints on IPs that another handle holds or that were released\./,
    );
    assert.match(check.stdout, /Check complete; found 2 problems\./);

    await cliOk(['datastore', 'migrate', 'lock']);
    const report = join(dir, 'report.json');
    await cliOk(['ipam', 'check', '-o', report]);
    const release = await cliOk(['ipam', 'release', '--from-report', report]);
    assert.match(release, /Deleted 1 stale workload endpoints; 0 skipped/);
    await cliOk(['datastore', 'migrate', 'unlock']);
    const clean = await cliOk(['ipam', 'check']);
    assert.match(clean, /Check complete; found 0 problems\./);
    await withStore(ds, async (store) => {
      assert.equal(await findEndpoint(store, 'node--a-k8s-old-eth0', 'default'), undefined);
      assert.ok(await findEndpoint(store, 'node--a-k8s-new-eth0', 'default'));
    });
  });
});
