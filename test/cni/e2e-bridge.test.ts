// End to end with Debian's containernetworking-plugins: the reference `bridge` plugin delegates
// IPAM to ./bin/cidrpool-ipam (found through CNI_PATH). One network namespace stands in for the
// node (the bridge lives there, so the root namespace is never changed); three pod namespaces get
// addresses from the pool, ping each other across the bridge, pass CHECK, and DEL releases them
// until every block's in-use count is back to zero. Runs on the embedded store and on etcd.
// Needs root (network namespaces); skipped with that reason otherwise.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { startEtcd } from '../helpers/etcd-cluster.js';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';
import { formatCidr, networkOf, parseCidr, parseIp } from '../../src/net/index.js';
import { pingAll, pingFrom } from '../helpers/ping.js';
import { PLUGIN, cleanEnv, datastoreKeys, inUseCount, seedStore, withStore } from './support.js';

const BRIDGE = '/usr/lib/cni/bridge';
const skip = netnsSkipReason();

/**
 * A CNI_PATH folder holding `cidrpool-ipam`. With `viaRootNetns` it is a wrapper that runs the
 * plugin in this test's network namespace: the bridge plugin runs inside the node namespace,
 * where 127.0.0.1 is not the loopback etcd listens on. The IPAM plugin only talks to the
 * datastore, so where it runs does not change what is tested.
 */
function makePluginDir(viaRootNetns: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'cni-e2e-bin-'));
  const target = join(dir, 'cidrpool-ipam');
  if (viaRootNetns) {
    writeFileSync(
      target,
      `#!/bin/sh\nexec nsenter --net=/proc/${process.pid}/ns/net -- ${PLUGIN} "$@"\n`,
    );
    chmodSync(target, 0o755);
  } else {
    symlinkSync(PLUGIN, target);
  }
  return dir;
}

/** One bridge scenario: how many pods, the pool's block size, the bridge's gateway mode. */
interface Scenario {
  readonly pods: number;
  readonly blockSize: number;
  readonly isGateway: boolean;
  /** The pods' addresses must span at least this many blocks. */
  readonly minBlocks: number;
}

/** The blocks (at `blockSize`) that hold the addresses. */
const blocksOf = (addresses: readonly string[], blockSize: number): Set<string> =>
  new Set(addresses.map((a) => formatCidr(networkOf(parseIp(a), blockSize))));

async function runScenario(
  ds: DatastoreConfig,
  viaRootNetns: boolean,
  scenario: Scenario,
): Promise<void> {
  assert.ok(
    existsSync(BRIDGE),
    `${BRIDGE} is missing: run scripts/setup.sh (containernetworking-plugins)`,
  );
  const scope = new NetnsScope('cp10e2e');
  const binDir = makePluginDir(viaRootNetns);
  const pool = '10.88.0.0/24';
  try {
    await withStore(ds, (store) =>
      seedStore(store, {
        pools: [{ name: 'e2e-pool', cidr: pool, blockSize: scenario.blockSize }],
        nodes: [{ name: 'e2e-node' }],
      }),
    );
    const node = scope.create();
    const pods = Array.from({ length: scenario.pods }, () => scope.create());
    // A Linux bridge takes the lowest MAC of its ports unless one is set, and the bridge plugin's
    // CHECK compares the bridge MAC with the one in prevResult: give the bridge a fixed MAC first
    // (the plugin uses an existing bridge as it finds it).
    for (const args of [
      ['link', 'add', 'cp10br0', 'type', 'bridge'],
      ['link', 'set', 'cp10br0', 'address', '02:42:ac:58:00:01', 'up'],
    ]) {
      const r = await execIn(undefined, 'ip', ['-n', node, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    // A plain config: nothing cidrpool-specific beyond calico-ipam's keys and the datastore.
    const conf = {
      cniVersion: '1.0.0',
      name: 'e2e-net',
      type: 'bridge',
      bridge: 'cp10br0',
      isGateway: scenario.isGateway,
      ipMasq: true,
      ipam: { type: 'cidrpool-ipam', nodename: 'e2e-node', ...datastoreKeys(ds) },
    };
    const call = (command: string, i: number, config: unknown) =>
      execIn(node, BRIDGE, [], {
        env: cleanEnv({
          CNI_COMMAND: command,
          CNI_CONTAINERID: `e2e-ctr-${i}`,
          CNI_NETNS: NetnsScope.pathOf(pods[i]!),
          CNI_IFNAME: 'eth0',
          CNI_PATH: `${binDir}:/usr/lib/cni`,
          CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=e2e;K8S_POD_NAME=pod-${i}`,
        }),
        stdin: JSON.stringify(config),
      });

    const results: Record<string, unknown>[] = [];
    const addresses: string[] = [];
    for (let i = 0; i < pods.length; i++) {
      const add = await call('ADD', i, conf);
      assert.equal(add.code, 0, `bridge ADD ${i} failed: ${add.stdout} ${add.stderr}`);
      const result = JSON.parse(add.stdout) as {
        ips: { address: string; gateway?: string }[];
        routes?: { dst: string }[];
      };
      results.push(result as unknown as Record<string, unknown>);
      assert.equal(result.ips.length, 1);
      // isGateway: the block's mask and its gateway; otherwise the pool's mask (one segment).
      const prefix = scenario.isGateway ? scenario.blockSize : 24;
      assert.match(result.ips[0]!.address, new RegExp(`^10\\.88\\.0\\.\\d+/${prefix}$`));
      for (const route of result.routes ?? []) {
        const dst = parseCidr(route.dst); // throws on host bits set
        assert.equal(formatCidr(dst), route.dst);
      }
      addresses.push(result.ips[0]!.address.split('/')[0]!);
      const shown = await execIn(undefined, 'ip', ['-n', pods[i]!, '-4', 'addr', 'show', 'eth0']);
      assert.match(
        shown.stdout,
        new RegExp(`inet ${result.ips[0]!.address.replace(/\./g, '\\.')}`),
      );
    }
    assert.equal(new Set(addresses).size, pods.length, `addresses must differ: ${addresses}`);
    assert.ok(
      blocksOf(addresses, scenario.blockSize).size >= scenario.minBlocks,
      `expected pods in at least ${scenario.minBlocks} blocks: ${addresses.join(', ')}`,
    );
    // Never the pool's or a block's network or broadcast address, nor the bridge's gateway.
    const bridgeAddrs = await execIn(undefined, 'ip', [
      '-n',
      node,
      '-4',
      '-o',
      'addr',
      'show',
      'cp10br0',
    ]);
    for (const a of addresses) {
      assert.ok(!bridgeAddrs.stdout.includes(`inet ${a}/`), `${a} is on the bridge`);
      assert.notEqual(a, '10.88.0.0');
      assert.notEqual(a, '10.88.0.255');
    }
    assert.equal(await inUseCount(ds), BigInt(pods.length));

    // Every pod reaches every other pod, across blocks; the bridge's address reaches them all.
    await pingAll(pods, addresses);
    if (scenario.isGateway) {
      await pingFrom(node, addresses);
      // The block is full and the bridge cannot take a second gateway: a clear refusal, and
      // nothing is left assigned.
      const extra = pods.length;
      pods.push(scope.create());
      const refused = await call('ADD', extra, conf);
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.match(refused.stdout, /holds one IPv4 gateway.*block is full/s);
      assert.match(refused.stdout, /blockSize/);
      assert.equal(await inUseCount(ds), BigInt(addresses.length));
      assert.equal((await call('DEL', extra, conf)).code, 0);
      pods.pop();
    }

    for (let i = 0; i < pods.length; i++) {
      const check = await call('CHECK', i, { ...conf, prevResult: results[i] });
      assert.equal(check.code, 0, `bridge CHECK failed: ${check.stdout} ${check.stderr}`);
    }
    for (let i = 0; i < pods.length; i++) {
      for (let round = 0; round < 2; round++) {
        const del = await call('DEL', i, conf);
        assert.equal(del.code, 0, `bridge DEL failed: ${del.stdout} ${del.stderr}`);
      }
    }
    assert.equal(await inUseCount(ds), 0n);
  } finally {
    scope.cleanup();
    rmSync(binDir, { recursive: true, force: true });
  }
}

/**
 * One pod per cniVersion the bridge plugin speaks (0.1.0 to 1.0.0): the bridge plugin must accept
 * cidrpool-ipam's result in that version's format (ip4/ip6, or ips with and without "version"),
 * put the address on the pod's eth0, pass CHECK where it exists, and DEL must release it.
 */
async function runEveryVersion(ds: DatastoreConfig): Promise<void> {
  const scope = new NetnsScope('cpver');
  const binDir = makePluginDir(false);
  try {
    await withStore(ds, (store) =>
      seedStore(store, {
        pools: [{ name: 'ver-pool', cidr: '10.89.0.0/24', blockSize: 26 }],
        nodes: [{ name: 'ver-node' }],
      }),
    );
    const node = scope.create();
    const r = await execIn(undefined, 'ip', ['-n', node, 'link', 'add', 'cpbr1', 'type', 'bridge']);
    assert.equal(r.code, 0, r.stderr);
    await execIn(undefined, 'ip', [
      '-n',
      node,
      'link',
      'set',
      'cpbr1',
      'address',
      '02:42:ac:59:00:01',
      'up',
    ]);
    const versions = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];
    for (const [i, cniVersion] of versions.entries()) {
      const pod = scope.create();
      const conf = {
        cniVersion,
        name: 'ver-net',
        type: 'bridge',
        bridge: 'cpbr1',
        isGateway: false,
        ipMasq: false,
        ipam: {
          type: 'cidrpool-ipam',
          nodename: 'ver-node',
          ...datastoreKeys(ds),
        },
      };
      const call = (command: string, config: unknown) =>
        execIn(node, BRIDGE, [], {
          env: cleanEnv({
            CNI_COMMAND: command,
            CNI_CONTAINERID: `ver-ctr-${i}`,
            CNI_NETNS: NetnsScope.pathOf(pod),
            CNI_IFNAME: 'eth0',
            CNI_PATH: `${binDir}:/usr/lib/cni`,
            CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=ver;K8S_POD_NAME=pod-${i}`,
          }),
          stdin: JSON.stringify(config),
        });
      const add = await call('ADD', conf);
      assert.equal(add.code, 0, `${cniVersion}: bridge ADD failed: ${add.stdout} ${add.stderr}`);
      const result = JSON.parse(add.stdout) as {
        cniVersion: string;
        ip4?: { ip: string };
        ips?: { address: string }[];
      };
      assert.equal(result.cniVersion, cniVersion);
      const address = result.ip4?.ip ?? result.ips?.[0]?.address ?? '';
      // isGateway false: the pods share one segment, so the address carries the pool's mask.
      assert.match(address, /^10\.89\.0\.\d+\/24$/, `${cniVersion}: ${add.stdout}`);
      const shown = await execIn(undefined, 'ip', ['-n', pod, '-4', 'addr', 'show', 'dev', 'eth0']);
      assert.match(shown.stdout, new RegExp(`inet ${address.replace(/\./g, '\\.')}`), cniVersion);
      if (cniVersion >= '0.4.0') {
        const check = await call('CHECK', { ...conf, prevResult: result });
        assert.equal(check.code, 0, `${cniVersion}: bridge CHECK failed: ${check.stdout}`);
      }
      const del = await call('DEL', conf);
      assert.equal(del.code, 0, `${cniVersion}: bridge DEL failed: ${del.stdout} ${del.stderr}`);
      assert.equal(await inUseCount(ds), 0n, cniVersion);
    }
  } finally {
    scope.cleanup();
    rmSync(binDir, { recursive: true, force: true });
  }
}

describe('bridge plugin delegating IPAM to cidrpool-ipam', { skip }, () => {
  it('accepts the result of every cniVersion it speaks, 0.1.0 to 1.0.0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cni-e2e-ver-'));
    try {
      await runEveryVersion({ type: 'embedded', dataDir: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Run a scenario on the embedded store, or on etcd started for it (the plugin reaches the
   * loopback etcd from the root namespace, see makePluginDir). */
  async function onStore(store: 'embedded' | 'etcd', scenario: Scenario): Promise<void> {
    if (store === 'etcd') {
      const etcd = await startEtcd({ members: 1 });
      try {
        await runScenario({ type: 'etcdv3', endpoints: etcd.endpoints }, true, scenario);
      } finally {
        await etcd.stop();
      }
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'cni-e2e-store-'));
    try {
      await runScenario({ type: 'embedded', dataDir: dir }, false, scenario);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Six pods in blocks of four addresses: several pods per block and three blocks on one node.
  const acrossBlocks: Scenario = { pods: 6, blockSize: 30, isGateway: false, minBlocks: 2 };
  // isGateway: the bridge's one gateway serves one block, which holds all five pods.
  const oneGatewayBlock: Scenario = { pods: 5, blockSize: 29, isGateway: true, minBlocks: 1 };

  for (const store of ['embedded', 'etcd'] as const) {
    it(`isGateway false: six pods across blocks reach each other; DEL releases all (${store})`, () =>
      onStore(store, acrossBlocks));
    it(`isGateway true: five pods of one block and the bridge reach each other; a sixth is refused (${store})`, () =>
      onStore(store, oneGatewayBlock));
  }
});
