// The how-to "Restrict a pod to use an IP address in a specific range" (seeds/004): the
// ipv4pools annotation on the pod or its namespace (the pod wins); without one, the default pool.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DATASTORES, type Sandbox } from './support.js';

// pool-1 and pool-2 match no node (`!all()`, the IPPool reference's tip), so only pods that ask
// for them by annotation get their addresses.
const POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-1
spec:
  cidr: 10.1.0.0/16
  nodeSelector: '!all()'
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-2
spec:
  cidr: 10.2.0.0/16
  nodeSelector: '!all()'
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node1
spec: {}
`;
const V4POOLS = 'cni.projectcalico.org/ipv4pools';

for (const store of DATASTORES) {
  describe(`how-to: restrict pods to pools with ipv4pools annotations (${store.name})`, () => {
    let sb: Sandbox;
    let stop: () => Promise<void>;
    let n = 0;
    const assign = async (extra: string[]): Promise<string> =>
      (
        await sb.ok([
          'ipam',
          'assign',
          '--node',
          'node1',
          '--namespace',
          'team-a',
          '--pod',
          `pod-${n++}`,
          ...extra,
        ])
      ).trim();
    before(async () => {
      ({ sb, stop } = await store.open());
      assert.equal(
        await sb.ok(['create', '-f', sb.write('pools.yaml', POOLS)]),
        'Successfully created 4 resource(s)\n',
      );
    });
    after(async () => {
      sb.cleanup();
      await stop();
    });

    it('a pod without annotations gets the default pool', async () => {
      assert.match(await assign([]), /^192\.168\./);
    });
    it('a pod annotation restricts the pod to the listed pool', async () => {
      assert.match(await assign(['--pod-annotation', `${V4POOLS}=["pool-1"]`]), /^10\.1\./);
      assert.match(
        await assign(['--pod-annotation', `${V4POOLS}=["pool-2", "pool-1"]`]),
        /^10\.(1|2)\./,
      );
    });
    it('a namespace annotation applies to pods without their own', async () => {
      assert.match(await assign(['--namespace-annotation', `${V4POOLS}=["pool-2"]`]), /^10\.2\./);
    });
    it('the pod annotation wins over the namespace one', async () => {
      const ip = await assign([
        '--namespace-annotation',
        `${V4POOLS}=["pool-2"]`,
        '--pod-annotation',
        `${V4POOLS}=["pool-1"]`,
      ]);
      assert.match(ip, /^10\.1\./);
    });
    it('pools can also be named by CIDR, and bad annotations are refused', async () => {
      assert.match(await assign(['--pod-annotation', `${V4POOLS}=["10.2.0.0/16"]`]), /^10\.2\./);
      const bad = await sb.run([
        'ipam',
        'assign',
        '--node',
        'node1',
        '--pod',
        'x',
        '--pod-annotation',
        `${V4POOLS}=[pool-1]`,
      ]);
      assert.equal(bad.code, 1);
      assert.notEqual(bad.stderr.trim(), '');
      assert.equal(bad.stdout, '');
      const missing = await sb.run([
        'ipam',
        'assign',
        '--node',
        'node1',
        '--pod',
        'y',
        '--pod-annotation',
        `${V4POOLS}=["nope"]`,
      ]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stdout, '');
    });
    it('every assigned pod shows up as a workload endpoint, and ipam check is clean', async () => {
      const weps = (await sb.ok(['get', 'wep', '-n', 'team-a'])).trim().split('\n');
      assert.equal(weps.length, 1 + 6);
      assert.match(await sb.ok(['ipam', 'check']), /found 0 problems/);
    });
  });
}
