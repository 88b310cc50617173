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

async function runScenario(ds: DatastoreConfig, viaRootNetns: boolean): Promise<void> {
  assert.ok(
    existsSync(BRIDGE),
    `${BRIDGE} is missing: run scripts/setup.sh (containernetworking-plugins)`,
  );
  const scope = new NetnsScope('cpe2e');
  const binDir = makePluginDir(viaRootNetns);
  try {
    await withStore(ds, (store) =>
      seedStore(store, {
        pools: [{ name: 'e2e-pool', cidr: '10.88.0.0/24', blockSize: 26 }],
        nodes: [{ name: 'e2e-node' }],
      }),
    );
    const node = scope.create();
    const pods = [scope.create(), scope.create(), scope.create()];
    // A Linux bridge takes the lowest MAC of its ports unless one is set, and the bridge plugin's
    // CHECK compares the bridge MAC with the one in prevResult: give the bridge a fixed MAC first
    // (the plugin uses an existing bridge as it finds it).
    for (const args of [
      ['link', 'add', 'cpbr0', 'type', 'bridge'],
      ['link', 'set', 'cpbr0', 'address', '02:42:ac:58:00:01', 'up'],
    ]) {
      const r = await execIn(undefined, 'ip', ['-n', node, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    const conf = {
      cniVersion: '1.0.0',
      name: 'e2e-net',
      type: 'bridge',
      bridge: 'cpbr0',
      isGateway: false,
      ipMasq: false,
      ipam: {
        type: 'cidrpool-ipam',
        nodename: 'e2e-node',
        // Calico's per-address routes (dst with host bits) are refused by the kernel when the
        // bridge plugin installs them; the pods share one L2 segment and need no routes.
        result_routes: 'none',
        ...datastoreKeys(ds),
      },
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
      assert.equal(add.code, 0, `bridge ADD failed: ${add.stdout} ${add.stderr}`);
      const result = JSON.parse(add.stdout) as { ips: { address: string }[] };
      results.push(result as unknown as Record<string, unknown>);
      assert.equal(result.ips.length, 1);
      assert.match(result.ips[0]!.address, /^10\.88\.0\.\d+\/26$/);
      addresses.push(result.ips[0]!.address.split('/')[0]!);
      const shown = await execIn(undefined, 'ip', [
        '-n',
        pods[i]!,
        '-4',
        'addr',
        'show',
        'dev',
        'eth0',
      ]);
      assert.match(shown.stdout, new RegExp(`inet ${addresses[i]!.replace(/\./g, '\\.')}/26`));
    }
    assert.equal(new Set(addresses).size, 3, `addresses must differ: ${addresses.join(', ')}`);
    assert.equal(await inUseCount(ds), 3n);

    // Every pod reaches every other pod across the bridge (only addresses inside our namespaces).
    for (let i = 0; i < pods.length; i++) {
      for (let j = 0; j < pods.length; j++) {
        if (i === j) continue;
        const ping = await execIn(pods[i], 'ping', ['-c', '1', '-W', '2', addresses[j]!]);
        assert.equal(
          ping.code,
          0,
          `ping ${pods[i]} -> ${addresses[j]}: ${ping.stdout}${ping.stderr}`,
        );
      }
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
          result_routes: 'none',
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
      assert.match(address, /^10\.89\.0\.\d+\/26$/, `${cniVersion}: ${add.stdout}`);
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

  it('three pods ping each other; DEL releases everything (embedded store)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cni-e2e-store-'));
    try {
      await runScenario({ type: 'embedded', dataDir: dir }, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('three pods ping each other; DEL releases everything (etcd)', async () => {
    const etcd = await startEtcd({ members: 1 });
    try {
      await runScenario({ type: 'etcdv3', endpoints: etcd.endpoints }, true);
    } finally {
      await etcd.stop();
    }
  });
});
