// The how-to "Expand or shrink IP pool block size" (seeds/003, example 2): move from /26 to /28
// blocks through a temporary pool, with the real binary. Manifests are the how-to's, verbatim
// (including its 192.0.0.0/16 for the re-created pool).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertGolden, DATASTORES, type Sandbox } from './support.js';
import { DEFAULT_POOL, NEW_POOL } from './seed-manifests.js';

const SMALL_BLOCKS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  blockSize: 28
  cidr: 192.0.0.0/16
  ipipMode: Always
  natOutgoing: true
`;
const NODE = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node1
spec: {}
`;

/** The how-to's edit: keep only one pool of the exported list, with `disabled: true`. */
function disabledOnly(listYaml: string, name: string, spec: string): string {
  assert.ok(listYaml.includes(`name: ${name}`));
  return `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: ${name}
spec:
${spec}  disabled: true
`;
}

for (const store of DATASTORES) {
  describe(`how-to: shrink the block size from /26 to /28 (${store.name})`, () => {
    let sb: Sandbox;
    let stop: () => Promise<void>;
    const handles: string[] = [];
    const assign = async (pod: string): Promise<string> => {
      const out = JSON.parse(
        await sb.ok(['ipam', 'assign', '--node', 'node1', '--pod', pod, '-o', 'json']),
      ) as {
        handle: string;
        ipv4: string[];
      };
      handles.push(out.handle);
      return out.ipv4[0]!;
    };
    const deleteAllPods = async (): Promise<void> => {
      for (const handle of handles.splice(0)) await sb.ok(['ipam', 'release', '--handle', handle]);
    };
    before(async () => {
      ({ sb, stop } = await store.open());
    });
    after(async () => {
      sb.cleanup();
      await stop();
    });

    it('starts with a /26 default pool in use', async () => {
      await sb.ok(['create', '-f', sb.write('default.yaml', DEFAULT_POOL)]);
      await sb.ok(['create', '-f', sb.write('node.yaml', NODE)]);
      assert.match(await assign('coredns-6f4fd4bdf-8q7zp'), /^192\.168\.\d+\.\d+\/26$/);
    });

    it('steps 1-4: temporary pool, disable and empty the old pool, delete it', async () => {
      assert.equal(
        await sb.ok(['apply', '-f', sb.write('new-pool.yaml', NEW_POOL)]),
        "Successfully applied 1 'IPPool' resource(s)\n",
      );
      const exported = await sb.ok(['get', 'ippool', '-o', 'yaml', '--export']);
      const edited = disabledOnly(
        exported,
        'default-ipv4-ippool',
        '  cidr: 192.168.0.0/16\n  ipipMode: Always\n  natOutgoing: true\n',
      );
      assert.equal(
        await sb.ok(['apply', '-f', sb.write('pool.yaml', edited)]),
        "Successfully applied 1 'IPPool' resource(s)\n",
      );
      assert.match(
        await sb.ok(['get', 'ippool', '-o', 'wide']),
        /default-ipv4-ippool +192\.168\.0\.0\/16 +true +Always +Never +true /,
      );
      await deleteAllPods();
      assert.match(await assign('coredns-6f4fd4bdf-xk2lp'), /^10\.0\.\d+\.\d+\/26$/);
      assert.equal(
        await sb.ok(['delete', 'pool', 'default-ipv4-ippool']),
        "Successfully deleted 1 'IPPool' resource(s)\n",
      );
    });

    it('steps 5-8: /28 pool, disable and empty the temporary pool, delete it', async () => {
      assert.equal(
        await sb.ok(['apply', '-f', sb.write('pool.yaml', SMALL_BLOCKS)]),
        "Successfully applied 1 'IPPool' resource(s)\n",
      );
      const exported = await sb.ok(['get', 'ippool', '-o', 'yaml', '--export']);
      assert.match(exported, /blockSize: 28/);
      const edited = disabledOnly(
        exported,
        'new-pool',
        '  cidr: 10.0.0.0/16\n  ipipMode: Always\n  natOutgoing: true\n',
      );
      await sb.ok(['apply', '-f', sb.write('pool.yaml', edited)]);
      await deleteAllPods();
      for (const pod of ['coredns-a', 'coredns-b', 'nginx-1'])
        assert.match(await assign(pod), /^192\.0\.\d+\.\d+\/28$/);
      const blocks = await sb.ok(['ipam', 'show', '--show-blocks']);
      assert.match(
        blocks,
        /\| Block +\| 192\.0\.\d+\.\d+\/28 +\| +16 \| 3 \(19%\) +\| 13 \(81%\) +\|/,
      );
      assert.equal(
        await sb.ok(['delete', 'pool', 'new-pool']),
        "Successfully deleted 1 'IPPool' resource(s)\n",
      );
      const after = await sb.ok(['ipam', 'show', '--show-blocks']);
      assertGolden('howto-block-size-show.txt', after);
      assert.ok(!after.includes('/26'));
    });
  });
}
