// cidrpool-cni's pieces that need no network namespace: its config keys, its result in every
// cniVersion, reading IPAM results, finding the IPAM plugin, and (spawning the real
// bin/cidrpool-cni) the errors it returns before any interface is touched: a missing IPAM plugin,
// an IPAM plugin's own error passed on with its code, bad keys, CHECK without prevResult.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseNetConf } from '../../src/cni/config.js';
import { findPlugin, parseIpamResult } from '../../src/cni/pod/ipam-delegate.js';
import { parsePodConf } from '../../src/cni/pod/pod-config.js';
import { buildPodResult } from '../../src/cni/pod/pod-result.js';
import type { WiredInterface } from '../../src/cni/pod/veth.js';
import { hostInterfaceNameOf } from '../../src/resources/workload-interface.js';
import { execIn } from '../helpers/netns.js';
import { POD_PLUGIN } from '../helpers/pod-plugin.js';
import { REPO_ROOT, cleanEnv, runPlugin, seedStore, withStore } from './support.js';

const conf = (extra: Record<string, unknown>) =>
  parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'cidrpool-cni', ...extra }));
const NO_MTU_FILE = '/nonexistent/mtu';

describe('cidrpool-cni config keys', () => {
  it('defaults: MTU 1500, one queue, default routes of both families, no forwarding', () => {
    assert.deepEqual(parsePodConf(conf({}), NO_MTU_FILE), {
      mtu: 1500,
      numQueues: 1,
      allowIpForwarding: false,
      routes: ['0.0.0.0/0', '::/0'],
    });
  });

  it('reads mtu, num_queues, container_settings and ipam.routes (include_default_routes adds the defaults)', () => {
    const ipam = { type: 'host-local', routes: [{ dst: '10.0.0.0/8' }] };
    const parsed = parsePodConf(
      conf({ mtu: 1410, num_queues: 2, container_settings: { allow_ip_forwarding: true }, ipam }),
      NO_MTU_FILE,
    );
    assert.deepEqual(parsed, {
      mtu: 1410,
      numQueues: 2,
      allowIpForwarding: true,
      routes: ['10.0.0.0/8'],
    });
    assert.deepEqual(
      parsePodConf(conf({ include_default_routes: true, ipam }), NO_MTU_FILE).routes,
      ['0.0.0.0/0', '::/0', '10.0.0.0/8'],
    );
  });

  it("takes the MTU from Calico's MTU file when the config has none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp11p-mtu-'));
    try {
      writeFileSync(join(dir, 'mtu'), '1440\n');
      assert.equal(parsePodConf(conf({}), join(dir, 'mtu')).mtu, 1440);
      assert.equal(parsePodConf(conf({ mtu: 1400 }), join(dir, 'mtu')).mtu, 1400);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every bad key with its value', () => {
    assert.throws(
      () =>
        parsePodConf(
          conf({ mtu: '1450', ipam: { type: 'x', routes: [{ dst: 'ten' }] } }),
          NO_MTU_FILE,
        ),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CNI_INVALID_CONFIG');
        assert.match(err.message, /mtu: "1450" must be an integer from 68 to 65535/);
        assert.match(err.message, /ipam\.routes\[0\]\.dst: "ten" must be a CIDR/);
        return true;
      },
    );
  });

  it('names the host end as Calico: sha1 of namespace.pod for pods, the container ID otherwise', () => {
    // `printf default.nginx | sha1sum` = c440f455693b69cdd48a37aa5ecd78038f50413d
    const k8s = hostInterfaceNameOf({
      orchestrator: 'k8s',
      namespace: 'default',
      pod: 'nginx',
      containerId: 'x',
    });
    assert.equal(k8s, 'calic440f455693');
    assert.equal(
      hostInterfaceNameOf({
        orchestrator: 'cni',
        namespace: 'default',
        containerId: '0123456789abcdef',
      }),
      'cali0123456789a',
    );
  });
});

describe('cidrpool-cni results', () => {
  const wired: WiredInterface = {
    hostIfName: 'cali0123456789a',
    hostMac: 'ee:ee:ee:ee:ee:ee',
    podMac: '02:00:00:00:00:01',
    gateways: { v4: '169.254.1.1', v6: 'fe80::ecee:eeff:feee:eeee' },
  };
  const input = {
    wired,
    ifName: 'eth0',
    netns: '/var/run/netns/p',
    addresses: ['10.0.0.5/32', 'fd00::5/128'],
    routes: ['0.0.0.0/0', '::/0'],
  };

  it('1.0.0: both ends as interfaces, the addresses on the pod end, routes via the gateways', () => {
    assert.deepEqual(buildPodResult({ ...input, cniVersion: '1.0.0' }), {
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cali0123456789a', mac: 'ee:ee:ee:ee:ee:ee' },
        { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/p' },
      ],
      ips: [
        { address: '10.0.0.5/32', gateway: '169.254.1.1', interface: 1 },
        { address: 'fd00::5/128', gateway: 'fe80::ecee:eeff:feee:eeee', interface: 1 },
      ],
      routes: [
        { dst: '0.0.0.0/0', gw: '169.254.1.1' },
        { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' },
      ],
    });
  });

  it('0.4.0 adds "version" and "dns"; 0.2.0 uses ip4/ip6; routes only for families the pod has', () => {
    const v4only = { ...input, addresses: ['10.0.0.5/32'] };
    const legacy = buildPodResult({ ...v4only, cniVersion: '0.4.0' }) as Record<string, unknown>;
    assert.deepEqual(legacy.ips, [
      { version: '4', address: '10.0.0.5/32', gateway: '169.254.1.1', interface: 1 },
    ]);
    assert.deepEqual(legacy.routes, [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);
    assert.deepEqual(legacy.dns, {});
    assert.deepEqual(buildPodResult({ ...v4only, cniVersion: '0.2.0' }), {
      cniVersion: '0.2.0',
      ip4: {
        ip: '10.0.0.5/32',
        gateway: '169.254.1.1',
        routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      },
      dns: {},
    });
  });

  it('reads IPAM results of every shape, and refuses one without addresses', () => {
    assert.deepEqual(
      parseIpamResult(
        'x',
        '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.5/26"}],"dns":{"nameservers":["10.0.0.10"]}}',
      ),
      { addresses: ['10.0.0.5/26'], dns: { nameservers: ['10.0.0.10'] } },
    );
    assert.deepEqual(
      parseIpamResult(
        'x',
        '{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.5/26"},"ip6":{"ip":"fd00::5/122"}}',
      ),
      { addresses: ['10.0.0.5/26', 'fd00::5/122'] },
    );
    assert.throws(() => parseIpamResult('x', '{"cniVersion":"1.0.0"}'), {
      code: 'CNI_IPAM_RESULT_INVALID',
      message: 'IPAM plugin returned no IP addresses in result',
    });
    assert.throws(() => parseIpamResult('x', 'oops'), { code: 'CNI_IPAM_RESULT_INVALID' });
  });

  it("finds the IPAM plugin in CNI_PATH, with the invoke package's message when absent", () => {
    assert.equal(findPlugin('host-local', `/nonexistent:/usr/lib/cni`), '/usr/lib/cni/host-local');
    assert.throws(() => findPlugin('nope', '/a:/b'), {
      code: 'CNI_IPAM_PLUGIN_NOT_FOUND',
      message: 'failed to find plugin "nope" in path [/a /b]',
    });
    assert.throws(() => findPlugin('../bin/sh', '/usr/lib/cni'), {
      code: 'CNI_IPAM_PLUGIN_NOT_FOUND',
    });
  });
});

describe('cidrpool-cni errors before any interface is touched (spawned)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cp11p-units-'));
  before(() =>
    withStore({ type: 'embedded', dataDir }, (store) =>
      seedStore(store, { pools: [{ name: 'p', cidr: '10.95.0.0/24' }], nodes: [{ name: 'n1' }] }),
    ),
  );
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = {
    cniVersion: '1.0.0',
    name: 'units',
    type: 'cidrpool-cni',
    nodename: 'n1',
    datastore_type: 'embedded',
    data_dir: dataDir,
  };
  const call = (command: string, config: unknown) =>
    runPlugin({
      program: POD_PLUGIN,
      command,
      config,
      netns: '/var/run/netns/cp11p-never-made',
      env: { CNI_PATH: `${REPO_ROOT}bin:/usr/lib/cni` },
    });

  it('VERSION lists the supported versions', async () => {
    const run = await call('VERSION', {});
    assert.equal(run.code, 0);
    assert.deepEqual(run.json, {
      cniVersion: '1.1.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
  });

  it('an IPAM plugin missing from CNI_PATH', async () => {
    const run = await call('ADD', { ...base, ipam: { type: 'cp11p-no-such-ipam' } });
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 999);
    assert.match(String(run.json?.msg), /^failed to find plugin "cp11p-no-such-ipam" in path \[/);
  });

  it("passes the IPAM plugin's own error on with its code, msg and details", async () => {
    // Debian's host-local (CNI 1.1.1) speaks up to 1.0.0: it refuses 1.1.0 with code 1.
    const run = await call('ADD', {
      ...base,
      cniVersion: '1.1.0',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.96.0.0/24' }]] },
    });
    assert.equal(run.code, 1, run.stdout);
    assert.deepEqual(run.json, {
      code: 1,
      msg: 'incompatible CNI versions',
      details:
        'config is "1.1.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]',
    });
  });

  it('a bad mtu is named before IPAM runs; CHECK needs prevResult', async () => {
    const bad = await call('ADD', { ...base, mtu: -1, ipam: { type: 'cidrpool-ipam' } });
    assert.equal(bad.code, 1);
    assert.equal(bad.json?.code, 7);
    assert.match(String(bad.json?.msg), /mtu: -1 must be an integer from 68 to 65535/);
    const check = await call('CHECK', { ...base, ipam: { type: 'cidrpool-ipam' } });
    assert.equal(check.code, 1);
    assert.deepEqual(check.json, {
      code: 7,
      msg: 'Required prevResult missing',
      details: 'CHECK needs the ADD result as prevResult in the network config',
    });
  });
});

describe('cidrpool-cni start-up', () => {
  it('runs the bundle dist/cni/pod-plugin.js from the code cache the build made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp11p-hook-'));
    try {
      // Records every vm.Script: the file, the cache it was given, and whether V8 took it.
      const hook = join(dir, 'hook.mjs');
      writeFileSync(
        hook,
        `import vm from 'node:vm';
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    super(code, options);
    process.stderr.write('script ' + options.filename + ' cache ' + (options.cachedData?.length ?? 0) + ' rejected ' + this.cachedDataRejected + '\\n');
  }
};
`,
      );
      for (const command of ['VERSION', 'CHECK']) {
        const run = await execIn(undefined, process.execPath, ['--import', hook, POD_PLUGIN], {
          env: cleanEnv({
            CNI_COMMAND: command,
            CNI_CONTAINERID: 'c',
            CNI_NETNS: '/var/run/netns/cp11p-never-made',
            CNI_IFNAME: 'eth0',
            CNI_PATH: '/usr/lib/cni',
          }),
          stdin: JSON.stringify({
            cniVersion: '1.0.0',
            name: 'n',
            type: 'cidrpool-cni',
            ipam: { type: 'x' },
          }),
        });
        assert.match(
          run.stderr,
          new RegExp(
            `^script ${REPO_ROOT}dist/cni/pod-plugin\\.js cache [1-9]\\d* rejected false$`,
            'm',
          ),
          `${command}: ${run.stderr}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
