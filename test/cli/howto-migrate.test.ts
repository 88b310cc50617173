// The how-to "Migrate workloads from one IP pool to another" (seeds/003), run end to end with
// the real binary: kubectl steps become `ipam assign --pod` / `ipam release --handle`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { assertGolden, DATASTORES, normalize, type Sandbox } from './support.js';
import { DEFAULT_POOL, NEW_POOL } from './seed-manifests.js';

const NODE = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: vagrant
spec: {}
`;

/** Set `disabled: true` under the spec of one pool in `get -o yaml` output, as the user edits it. */
function disablePool(yamlText: string, name: string): string {
  const lines = yamlText.split('\n');
  const at = lines.findIndex((l) => l.trim() === `name: ${name}`);
  assert.ok(at >= 0, `pool ${name} not in the YAML`);
  const spec = lines.findIndex((l, i) => i > at && l.trim() === 'spec:');
  const indent = /^(\s*)/.exec(lines[spec]!)![1]!;
  lines.splice(spec + 1, 0, `${indent}  disabled: true`);
  return lines.join('\n');
}

for (const store of DATASTORES) {
  describe(`how-to: migrate workloads from default-ipv4-ippool to new-pool (${store.name})`, () => {
    let sb: Sandbox;
    let stop: () => Promise<void>;
    let corednsHandle = '';
    before(async () => {
      ({ sb, stop } = await store.open());
    });
    after(async () => {
      sb.cleanup();
      await stop();
    });

    it('starts with the default pool and a coredns pod in it', async () => {
      assert.equal(
        await sb.ok(['create', '-f', sb.write('default.yaml', DEFAULT_POOL)]),
        "Successfully created 1 'IPPool' resource(s)\n",
      );
      await sb.ok(['create', '-f', sb.write('node.yaml', NODE)]);
      const out = JSON.parse(
        await sb.ok([
          'ipam',
          'assign',
          '--node',
          'vagrant',
          '--namespace',
          'kube-system',
          '--pod',
          'coredns-6f4fd4bdf-8q7zp',
          '-o',
          'json',
        ]),
      ) as { handle: string; ipv4: string[] };
      corednsHandle = out.handle;
      assert.match(out.ipv4[0]!, /^192\.168\.\d+\.\d+\/26$/);
      const weps = await sb.ok(['get', 'wep', '--all-namespaces']);
      const [header, row] = weps.split('\n');
      assert.match(header!, /^NAMESPACE +WORKLOAD +NODE +NETWORKS +INTERFACE +$/);
      assert.match(
        row!,
        /^kube-system +coredns-6f4fd4bdf-8q7zp +vagrant +192\.168\.\d+\.\d+\/32 +cali[0-9a-f]{11} +$/,
      );
    });

    it('step 1: adds new-pool and lists both pools wide', async () => {
      assert.equal(
        await sb.ok(['create', '-f', sb.write('new-pool.yaml', NEW_POOL)]),
        "Successfully created 1 'IPPool' resource(s)\n",
      );
      assertGolden('howto-migrate-wide-1.txt', await sb.ok(['get', 'ippool', '-o', 'wide']));
    });

    it('step 2: disables the old pool with get -o yaml, an edit, and apply', async () => {
      const listed = await sb.ok(['get', 'ippool', '-o', 'yaml']);
      assertGolden('howto-migrate-list.yaml', normalize(listed));
      sb.write('pool.yaml', disablePool(listed, 'default-ipv4-ippool'));
      assert.equal(
        await sb.ok(['apply', '-f', `${sb.dir}/pool.yaml`]),
        "Successfully applied 2 'IPPool' resource(s)\n",
      );
      assertGolden('howto-migrate-wide-2.txt', await sb.ok(['get', 'ippool', '-o', 'wide']));
      const pools = parse(await sb.ok(['get', 'ippool', 'default-ipv4-ippool', '-o', 'yaml'])) as {
        spec: { disabled?: boolean };
      };
      assert.equal(pools.spec.disabled, true);
    });

    it('step 3: deletes the pods of the old pool', async () => {
      const out = await sb.ok(['ipam', 'release', '--handle', corednsHandle]);
      assert.match(
        out,
        /^Successfully released IP address 192\.168\.\d+\.\d+\nDeleted WorkloadEndpoint kube-system\/vagrant-k8s-coredns--6f4fd4bdf--8q7zp-eth0\n$/,
      );
      assert.equal(
        await sb.ok(['get', 'wep', '-A']),
        'NAMESPACE   WORKLOAD   NODE   NETWORKS   INTERFACE   \n\n',
      );
    });

    it('step 4: new pods get an address from the new pool', async () => {
      const ip = await sb.ok([
        'ipam',
        'assign',
        '--node',
        'vagrant',
        '--namespace',
        'ippool-test',
        '--pod',
        'nginx-1',
      ]);
      assert.match(ip, /^10\.0\.\d+\.\d+\/26\n$/);
      const weps = await sb.ok(['get', 'wep', '-n', 'ippool-test']);
      assert.match(weps, /ippool-test +nginx-1 +vagrant +10\.0\.\d+\.\d+\/32/);
    });

    it('step 5: deletes the old pool', async () => {
      assert.equal(
        await sb.ok(['delete', 'pool', 'default-ipv4-ippool']),
        "Successfully deleted 1 'IPPool' resource(s)\n",
      );
      const pools = await sb.ok(['get', 'ippool']);
      assert.equal(
        pools,
        'NAME       CIDR          SELECTOR   \nnew-pool   10.0.0.0/16   all()      \n\n',
      );
      const check = await sb.ok(['ipam', 'check']);
      assert.match(check, /Check complete; found 0 problems\.\n$/);
    });
  });
}
