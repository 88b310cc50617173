// Annotation precedence and messages (surfaces.md §3.4), and pools named by annotations
// resolving to CIDRs in the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAnnotations } from '../../src/ipam/annotations.js';
import { createIpam } from '../../src/ipam/index.js';
import { openTempStore, putNode, putPool, testEnvironment } from '../helpers/ipam-fixtures.js';

const K = 'cni.projectcalico.org/';

test('pod wins key by key; an empty pod value does not override the namespace', () => {
  const r = resolveAnnotations({
    podAnnotations: { [`${K}ipv4pools`]: '["pod-v4"]', [`${K}ipv6pools`]: '' },
    namespaceAnnotations: {
      [`${K}ipv4pools`]: '["ns-v4"]',
      [`${K}ipv6pools`]: '["ns-v6"]',
      [`${K}ipFamilies`]: '["IPv6"]',
    },
  });
  assert.deepEqual(r, {
    ipv4Pools: ['pod-v4'],
    ipv6Pools: ['ns-v6'],
    families: { ipv4: false, ipv6: true },
  });
  assert.deepEqual(resolveAnnotations({}), {});
});

test('ipAddrs: from the pod only, one per family, Calico messages', () => {
  const addrs = (v: string) => resolveAnnotations({ podAnnotations: { [`${K}ipAddrs`]: v } });
  assert.deepEqual(addrs('["192.168.0.1", "fd00::01"]').ipAddrs, ['192.168.0.1', 'fd00::1']);
  assert.deepEqual(
    resolveAnnotations({ namespaceAnnotations: { [`${K}ipAddrs`]: '["10.0.0.1"]' } }),
    {},
  );
  assert.throws(
    () => addrs('[]'),
    /^CidrpoolError: annotation "cni\.projectcalico\.org\/ipAddrs" specified but empty$/,
  );
  assert.throws(
    () => addrs('["10.0.0.1","10.0.0.2"]'),
    /cannot have more than one IPv4 address for "cni\.projectcalico\.org\/ipAddrs" annotation/,
  );
  assert.throws(() => addrs('["10.0.0.300"]'), /invalid IP format: 10\.0\.0\.300/);
  assert.throws(
    () => addrs('x'),
    /failed to parse IPs x for annotation "cni\.projectcalico\.org\/ipAddrs": failed to parse 'x' as JSON: invalid character 'x' looking for beginning of value/,
  );
  assert.throws(
    () =>
      resolveAnnotations({
        podAnnotations: { [`${K}ipAddrs`]: '["10.0.0.1"]', [`${K}ipAddrsNoIpam`]: '["10.0.0.1"]' },
      }),
    /can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time/,
  );
  assert.throws(
    () => resolveAnnotations({ podAnnotations: { [`${K}ipv4pools`]: 'xyz' } }),
    /invalid character 'x' looking for beginning of value/,
  );
  assert.throws(
    () => resolveAnnotations({ podAnnotations: { [`${K}ipFamilies`]: '["IPv5"]' } }),
    /error parsing ipFamilies: \["IPv5"\]/,
  );
});

test('annotated pool names and CIDRs resolve in the engine; the pod beats the namespace', async () => {
  const t = await openTempStore();
  try {
    await putPool(t.store, 'ns-pool', { cidr: '10.30.0.0/24' });
    await putPool(t.store, 'pod-pool', { cidr: '10.31.0.0/24', assignmentMode: 'Manual' });
    await putNode(t.store, 'n');
    const ipam = createIpam(t.store, testEnvironment());
    const choose = (pod: Record<string, string>) =>
      resolveAnnotations({
        podAnnotations: pod,
        namespaceAnnotations: { [`${K}ipv4pools`]: '["ns-pool"]' },
      });
    const assign = async (pod: Record<string, string>) =>
      (
        await ipam.autoAssign({
          num4: 1,
          num6: 0,
          hostname: 'n',
          intendedUse: 'Workload',
          ipv4Pools: choose(pod).ipv4Pools,
        })
      ).ipv4.ips[0];
    assert.match((await assign({}))!, /^10\.30\./);
    assert.match((await assign({ [`${K}ipv4pools`]: '["pod-pool"]' }))!, /^10\.31\./);
    assert.match((await assign({ [`${K}ipv4pools`]: '["10.31.0.0/24"]' }))!, /^10\.31\./);
    await assert.rejects(
      assign({ [`${K}ipv4pools`]: '["missing"]' }),
      /the given pool \(missing\) does not exist, or is not enabled/,
    );
  } finally {
    await t.close();
  }
});
