// Pod and namespace annotations (ipv4pools, ipv6pools, ipFamilies, ipAddrs, ipAddrsNoIpam) and
// namespace labels, read from the Kubernetes API. A local HTTP server on 127.0.0.1
// (test/helpers/fake-kube-api.ts) stands in for kube-apiserver: it answers the two paths the
// plugin reads, GET /api/v1/namespaces/<ns>/pods/<pod> and GET /api/v1/namespaces/<ns>.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { generateTestCertificates } from '../helpers/etcd-certs.js';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.js';
import { resourceKey } from '../../src/datastore/keys.js';
import type { WorkloadEndpoint } from '../../src/resources/types.js';
import { datastoreKeys, ipsOfHandle, runPlugin, seedStore, withStore } from './support.js';

const POOLS = '["10.72.0.0/16"]';

describe('cidrpool-ipam with Kubernetes annotations (fake API server on 127.0.0.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cni-annotations-'));
  const ds: DatastoreConfig = { type: 'embedded', dataDir: join(dir, 'store') };
  let api: FakeKubeApi;

  before(async () => {
    api = await startFakeKubeApi({
      token: 'secret-token',
      namespaces: {
        'ns-pools': { annotations: { 'cni.projectcalico.org/ipv4pools': '["pool-manual"]' } },
        blue: { labels: { team: 'blue' } },
        plain: { labels: { team: 'red' } },
        // Plain CNI containers are in namespace "default": calico-ipam reads it too.
        default: { labels: { team: 'blue' } },
        // An empty value counts as absent (Calico checks len(value) != 0).
        'ns-empty': {
          labels: { team: 'red' },
          annotations: { 'cni.projectcalico.org/ipv4pools': '' },
        },
      },
      pods: {
        'ns-pools/inherits': {},
        'ns-pools/overrides': { annotations: { 'cni.projectcalico.org/ipv4pools': POOLS } },
        'plain/fixed': { annotations: { 'cni.projectcalico.org/ipAddrs': '["10.70.9.9"]' } },
        'plain/bad-json': { annotations: { 'cni.projectcalico.org/ipv4pools': 'x-pool' } },
        'plain/v6-only': { annotations: { 'cni.projectcalico.org/ipFamilies': '["IPv6"]' } },
        'plain/bad-family': { annotations: { 'cni.projectcalico.org/ipFamilies': '["IPv5"]' } },
        'plain/two-v4': {
          annotations: { 'cni.projectcalico.org/ipAddrs': '["10.70.1.1","10.70.1.2"]' },
        },
        'plain/no-ipam': {
          annotations: { 'cni.projectcalico.org/ipAddrsNoIpam': '["192.0.2.10"]' },
        },
        'blue/selected': { labels: { app: 'web' } },
        'ghost/pod': {},
        'ns-empty/plain': { annotations: { 'cni.projectcalico.org/ipAddrs': '' } },
        'plain/outside': { annotations: { 'cni.projectcalico.org/ipAddrs': '["192.0.2.1"]' } },
        'plain/floating': {
          annotations: { 'cni.projectcalico.org/floatingIPs': '["1.2.3.4","2001:db8::4"]' },
        },
        'plain/floating-bad': { annotations: { 'cni.projectcalico.org/floatingIPs': '{"ip":1}' } },
        'plain/selected': {},
      },
    });
    await withStore(ds, (store) =>
      seedStore(store, {
        pools: [
          { name: 'pool-red', cidr: '10.70.0.0/16', namespaceSelector: "team != 'blue'" },
          { name: 'pool-blue', cidr: '10.71.0.0/16', namespaceSelector: "team == 'blue'" },
          { name: 'pool-manual', cidr: '10.72.0.0/16', assignmentMode: 'Manual' },
          { name: 'pool-v6', cidr: 'fd00:70::/64' },
        ],
        nodes: [{ name: 'node-k' }],
      }),
    );
  });
  after(async () => {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (extra: Record<string, unknown> = {}) => ({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'calico',
    nodename: 'node-k',
    ...datastoreKeys(ds),
    policy: { type: 'k8s', k8s_auth_token: 'secret-token' },
    kubernetes: { k8s_api_root: api.url },
    ipam: { type: 'cidrpool-ipam' },
    ...extra,
  });
  const podArgs = (ns: string, pod: string) =>
    `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${pod}`;
  const add = (ns: string, pod: string, extra: Record<string, unknown> = {}) =>
    runPlugin({
      command: 'ADD',
      containerId: `c-${ns}-${pod}`,
      args: podArgs(ns, pod),
      config: config(extra),
    });
  const del = (ns: string, pod: string, extra: Record<string, unknown> = {}) =>
    runPlugin({
      command: 'DEL',
      containerId: `c-${ns}-${pod}`,
      args: podArgs(ns, pod),
      config: config(extra),
    });
  const firstAddress = (json: Record<string, unknown> | undefined) =>
    (json?.ips as { address: string }[] | undefined)?.[0]?.address ?? '';

  it('reads the pod and its namespace from the API', async () => {
    const before = api.requests.length;
    const run = await add('plain', 'selected');
    assert.equal(run.code, 0, run.stdout);
    const paths = api.requests.slice(before).sort();
    assert.deepEqual(paths, ['/api/v1/namespaces/plain', '/api/v1/namespaces/plain/pods/selected']);
    assert.match(firstAddress(run.json), /^10\.70\./);
    await del('plain', 'selected');
  });

  it("picks pools by the namespace's labels (namespaceSelector)", async () => {
    const run = await add('blue', 'selected');
    assert.equal(run.code, 0, run.stdout);
    assert.match(firstAddress(run.json), /^10\.71\./);
    await del('blue', 'selected');
  });

  it('takes ipv4pools from the namespace, and a non-empty pod annotation replaces it', async () => {
    const inherits = await add('ns-pools', 'inherits');
    assert.equal(inherits.code, 0, inherits.stdout);
    assert.match(firstAddress(inherits.json), /^10\.72\./);
    const overrides = await add('ns-pools', 'overrides');
    assert.equal(overrides.code, 0, overrides.stdout);
    assert.match(firstAddress(overrides.json), /^10\.72\./);
    await del('ns-pools', 'inherits');
    await del('ns-pools', 'overrides');
  });

  it('assigns the address of the ipAddrs annotation as /32 under the normal handle', async () => {
    const run = await add('plain', 'fixed');
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(run.json?.ips, [{ address: '10.70.9.9/32' }]);
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-fixed'), ['10.70.9.9']);
    await del('plain', 'fixed');
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-fixed'), []);
  });

  it('gives the ipAddrs address the prefix and gateway a delegating plugin needs', async () => {
    // The config a bridge or ptp plugin hands to its IPAM plugin: its own type and keys.
    const bridge = await add('plain', 'fixed', { type: 'bridge', isGateway: false });
    assert.equal(bridge.code, 0, bridge.stdout);
    assert.deepEqual(bridge.json?.ips, [{ address: '10.70.9.9/16' }]);
    await del('plain', 'fixed', { type: 'bridge' });
    const ptp = await add('plain', 'fixed', { type: 'ptp' });
    assert.equal(ptp.code, 0, ptp.stdout);
    assert.deepEqual(ptp.json?.ips, [{ address: '10.70.9.9/16', gateway: '10.70.0.1' }]);
    // The other pools the network may use are reached through the same gateway.
    assert.deepEqual(
      (ptp.json?.routes as { dst: string }[]).map((r) => r.dst),
      ['10.71.0.0/16', '10.72.0.0/16'],
    );
    await del('plain', 'fixed', { type: 'ptp' });
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-fixed'), []);
  });

  it("releases the old endpoint's addresses before assigning ipAddrs again (new sandbox)", async () => {
    const sandbox = (containerId: string, command = 'ADD') =>
      runPlugin({ command, containerId, args: podArgs('plain', 'fixed'), config: config() });
    const first = await sandbox('fixed-old');
    assert.equal(first.code, 0, first.stdout);
    // The runtime never DELeted the old sandbox: the pod's endpoint still holds 10.70.9.9.
    const second = await sandbox('fixed-new');
    assert.equal(second.code, 0, second.stdout);
    assert.deepEqual(second.json?.ips, [{ address: '10.70.9.9/32' }]);
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.fixed-old'), []);
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.fixed-new'), ['10.70.9.9']);
    assert.equal((await sandbox('fixed-old', 'DEL')).code, 0);
    assert.equal((await sandbox('fixed-new', 'DEL')).code, 0);
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.fixed-new'), []);
  });

  it('follows ipFamilies', async () => {
    const run = await add('plain', 'v6-only');
    assert.equal(run.code, 0, run.stdout);
    const ips = run.json?.ips as { address: string }[];
    assert.equal(ips.length, 1);
    assert.match(ips[0]!.address, /^fd00:70:/);
    await del('plain', 'v6-only');
  });

  it('reports malformed annotations with what to fix (code 999)', async () => {
    const badJson = await add('plain', 'bad-json');
    assert.equal(badJson.code, 1);
    assert.equal(badJson.json?.code, 999);
    assert.equal(badJson.json?.msg, "invalid character 'x' looking for beginning of value");
    assert.match(
      String(badJson.json?.details),
      /annotation "cni\.projectcalico\.org\/ipv4pools" on pod plain\/bad-json/,
    );
    const badFamily = await add('plain', 'bad-family');
    assert.equal(badFamily.json?.code, 999);
    assert.equal(badFamily.json?.msg, 'error parsing ipFamilies: ["IPv5"]');
    const twoV4 = await add('plain', 'two-v4');
    assert.equal(
      twoV4.json?.msg,
      'cannot have more than one IPv4 address for "cni.projectcalico.org/ipAddrs" annotation',
    );
  });

  it('needs feature_control.ip_addrs_no_ipam for ipAddrsNoIpam, then records nothing', async () => {
    const off = await add('plain', 'no-ipam');
    assert.equal(off.code, 1);
    assert.equal(off.json?.code, 7);
    assert.equal(off.json?.msg, 'requested feature is not enabled: ip_addrs_no_ipam');
    const on = await add('plain', 'no-ipam', { feature_control: { ip_addrs_no_ipam: true } });
    assert.equal(on.code, 0, on.stdout);
    assert.deepEqual(on.json?.ips, [{ address: '192.0.2.10/32' }]);
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-no-ipam'), []);
    const off2 = await del('plain', 'no-ipam', { feature_control: { ip_addrs_no_ipam: true } });
    assert.equal(off2.code, 0, off2.stdout);
  });

  it("fails like calico-ipam when the pod's namespace does not exist (code 999)", async () => {
    const run = await add('ghost', 'pod');
    assert.equal(run.code, 1);
    assert.equal(run.json?.code, 999);
    assert.equal(run.json?.msg, 'failed to get namespace ghost: namespaces "ghost" not found');
  });

  it('reads namespace "default" for a plain CNI container (namespaceSelector)', async () => {
    const before = api.requests.length;
    const run = await runPlugin({ command: 'ADD', containerId: 'plain-ctr', config: config() });
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(api.requests.slice(before), ['/api/v1/namespaces/default']);
    assert.match(firstAddress(run.json), /^10\.71\./);
    await runPlugin({ command: 'DEL', containerId: 'plain-ctr', config: config() });
  });

  it('takes an empty annotation as absent, on the namespace and on the pod', async () => {
    const run = await add('ns-empty', 'plain');
    assert.equal(run.code, 0, run.stdout);
    assert.match(firstAddress(run.json), /^10\.70\./);
    await del('ns-empty', 'plain');
  });

  it("prefixes IPAM failures of ipAddrs addresses as Calico's main plugin does", async () => {
    const run = await add('plain', 'outside');
    assert.equal(run.code, 1);
    assert.equal(
      run.json?.msg,
      'error getting IP from IPAM: The provided IP address is not in a configured pool',
    );
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-outside'), []);
  });

  it('needs feature_control.floating_ips for floatingIPs, then writes them as ipNATs', async () => {
    const off = await add('plain', 'floating');
    assert.equal(off.code, 1);
    assert.equal(off.json?.code, 7);
    assert.equal(off.json?.msg, 'requested feature is not enabled: floating_ips');
    assert.match(String(off.json?.details), /feature_control\.floating_ips/);
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-floating'), []);

    const on = {
      feature_control: { floating_ips: true },
      ipam: { type: 'cidrpool-ipam', assign_ipv6: 'true' },
    };
    const run = await add('plain', 'floating', on);
    assert.equal(run.code, 0, run.stdout);
    const [v4, v6] = (run.json?.ips as { address: string }[]).map((i) => i.address.split('/')[0]);
    const wep = await withStore(ds, async (store) => {
      const kv = await store.get(
        resourceKey('WorkloadEndpoint', 'node--k-k8s-floating-eth0', 'plain'),
      );
      return JSON.parse(kv!.value) as WorkloadEndpoint;
    });
    assert.deepEqual(wep.spec.ipNATs, [
      { internalIP: v4, externalIP: '1.2.3.4' },
      { internalIP: v6, externalIP: '2001:db8::4' },
    ]);
    await del('plain', 'floating', on);

    const bad = await add('plain', 'floating-bad', on);
    assert.equal(bad.code, 1);
    assert.equal(bad.json?.code, 999);
    assert.equal(
      bad.json?.msg,
      `failed to parse '{"ip":1}' as JSON: json: cannot unmarshal object into Go value of type []string`,
    );
    assert.deepEqual(await ipsOfHandle(ds, 'k8s-pod-network.c-plain-floating-bad'), []);
  });

  it('reads the server and token from a kubeconfig file', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: test',
        'clusters:',
        '- name: fake',
        '  cluster:',
        `    server: ${api.url}`,
        'users:',
        '- name: plugin',
        '  user:',
        '    token: secret-token',
        'contexts:',
        '- name: test',
        '  context: {cluster: fake, user: plugin}',
      ].join('\n'),
    );
    const run = await add('ns-pools', 'inherits', {
      policy: { type: 'k8s' },
      kubernetes: { kubeconfig },
    });
    assert.equal(run.code, 0, run.stdout);
    assert.match(firstAddress(run.json), /^10\.72\./);
    await del('ns-pools', 'inherits', { policy: { type: 'k8s' }, kubernetes: { kubeconfig } });
  });

  it('talks TLS with a client certificate from a kubeconfig (relative paths and -data)', async () => {
    const certs = generateTestCertificates();
    const read = (f: string) => readFileSync(f, 'utf8');
    const tlsApi = await startFakeKubeApi({
      tls: {
        cert: read(certs.serverCertFile),
        key: read(certs.serverKeyFile),
        clientCa: read(certs.caFile),
      },
      namespaces: {
        'ns-pools': { annotations: { 'cni.projectcalico.org/ipv4pools': '["pool-manual"]' } },
      },
      pods: { 'ns-pools/tls-pod': {} },
    });
    try {
      const kubeconfig = join(certs.dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'current-context: tls',
          'clusters:',
          '- name: tls',
          '  cluster:',
          `    server: ${tlsApi.url}`,
          `    certificate-authority-data: ${Buffer.from(read(certs.caFile)).toString('base64')}`,
          'users:',
          '- name: tls',
          '  user:',
          `    client-certificate: ${relative(certs.dir, certs.clientCertFile)}`,
          `    client-key: ${relative(certs.dir, certs.clientKeyFile)}`,
          'contexts:',
          '- name: tls',
          '  context: {cluster: tls, user: tls}',
        ].join('\n'),
      );
      const extra = { policy: { type: 'k8s' }, kubernetes: { kubeconfig } };
      const run = await add('ns-pools', 'tls-pod', extra);
      assert.equal(run.code, 0, run.stdout);
      assert.match(firstAddress(run.json), /^10\.72\./);
      assert.equal(tlsApi.requests.length, 2);
      await del('ns-pools', 'tls-pod', extra);

      const wrongCa = kubeconfig.replace(/kubeconfig$/, 'kubeconfig-wrong-ca');
      writeFileSync(
        wrongCa,
        read(kubeconfig).replace(
          /certificate-authority-data: .*/,
          `certificate-authority-data: ${Buffer.from(read(certs.wrongCaFile)).toString('base64')}`,
        ),
      );
      const refused = await add('ns-pools', 'tls-pod', {
        ...extra,
        kubernetes: { kubeconfig: wrongCa },
      });
      assert.equal(refused.code, 1);
      assert.equal(refused.json?.code, 7);
      assert.match(
        String(refused.json?.msg),
        /TLS with the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ failed/,
      );
      assert.match(String(refused.json?.details), /certificate-authority/);
    } finally {
      await tlsApi.stop();
      certs.remove();
    }
  });

  it('fails with code 999 for a missing pod and 11 when the API cannot be reached', async () => {
    const missing = await add('plain', 'no-such-pod');
    assert.equal(missing.code, 1);
    assert.equal(missing.json?.code, 999);
    assert.match(
      String(missing.json?.msg),
      /failed to get pod plain\/no-such-pod: pods "no-such-pod" not found/,
    );
    const down = await add('plain', 'selected', {
      kubernetes: { k8s_api_root: 'http://127.0.0.1:1' },
    });
    assert.equal(down.code, 1);
    assert.equal(down.json?.code, 11);
    assert.match(
      String(down.json?.msg),
      /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:1/,
    );
    const unauthorized = await add('plain', 'selected', { policy: { type: 'k8s' } });
    assert.equal(unauthorized.json?.code, 999);
    assert.match(String(unauthorized.json?.msg), /Unauthorized/);
  });
});
