// Spawn tests of the resource commands: create/apply/replace/delete/get/patch/label messages,
// partial success, kinds, namespaces and -f sources (surfaces.md §1.2-§1.6).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertGolden, normalize, sandboxForSuite } from './support.js';
import { V1_POOL } from './seed-manifests.js';

const pool = (name: string, cidr: string, extra = ''): string =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;

describe('resource commands', () => {
  const sb = sandboxForSuite();

  it('creates from a file with several kinds, and from stdin', async () => {
    const text = `${pool('p1', '10.10.0.0/16')}---\n${pool('p2', '10.20.0.0/16', "  nodeSelector: zone == 'a'\n")}`;
    assert.equal(
      await sb.ok(['create', '-f', sb.write('two.yaml', text)]),
      "Successfully created 2 'IPPool' resource(s)\n",
    );
    const node =
      'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: node1\nspec:\n  bgp:\n    ipv4Address: 172.16.0.1/24\n';
    assert.equal(
      await sb.ok(['create', '-f', '-'], { input: node }),
      "Successfully created 1 'Node' resource(s)\n",
    );
    assertGolden('get-nodes-wide.txt', await sb.ok(['get', 'nodes', '-o', 'wide']));
  });

  it('reports create failures as calicoctl does, continuing after each', async () => {
    const one = await sb.run(['create', '-f', sb.write('dup.yaml', pool('p1', '10.10.0.0/16'))]);
    assert.equal(one.code, 1);
    assert.equal(one.stdout, '');
    // The etcdv3 backend wraps no cause, so libcalico's ` with error: <inner>` shows <nil>.
    assert.equal(
      one.stderr,
      "failed to create 'IPPool' resource: [resource already exists: IPPool(p1) with error: <nil>]\n",
    );
    const skip = await sb.run(['create', '--skip-exists', '-f', `${sb.dir}/dup.yaml`]);
    assert.equal(skip.code, 0);
    assert.equal(skip.stdout, "Successfully created 1 'IPPool' resource(s)\n");
    const mixed = `${pool('p3', '10.30.0.0/16')}---\n${pool('p4', '10.40.0.0/16')}---\n${pool('p1', '10.10.0.0/16')}`;
    const partial = await sb.run(['create', '-f', sb.write('mixed.yaml', mixed)]);
    assert.equal(partial.code, 1);
    assert.equal(
      partial.stdout,
      "Partial success: created the first 2 out of 3 'IPPool' resources:\n",
    );
    assert.match(partial.stderr, /^hit error: \[resource already exists: IPPool\(p1\)/);
  });

  it('lists as an IPPoolList that round-trips through apply', async () => {
    const yaml = await sb.ok(['get', 'ippools', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: projectcalico.org\/v3\nitems:\n- apiVersion/);
    assert.match(yaml, /kind: IPPoolList\nmetadata:\n  resourceVersion: "\d+"\n$/);
    const applied = await sb.ok(['apply', '-f', sb.write('list.yaml', yaml)]);
    assert.equal(applied, "Successfully applied 4 'IPPool' resource(s)\n");
    const json = await sb.ok(['get', 'ipp', 'p1', '-o', 'json']);
    assert.ok(
      json.startsWith(
        '{\n  "kind": "IPPool",\n  "apiVersion": "projectcalico.org/v3",\n  "metadata": {\n    "name": "p1"',
      ),
    );
    assert.ok(json.endsWith('}'));
    assertGolden('get-pool-p1.json', normalize(json));
    assertGolden('get-pools-ps.txt', await sb.ok(['get', 'IPPools']));
  });

  it('prints several named objects as separate tables, errors for missing names last', async () => {
    const res = await sb.run(['get', 'pool', 'p1', 'missing', 'p2']);
    assert.equal(res.code, 1);
    assert.equal(
      res.stdout,
      "NAME   CIDR           SELECTOR   \np1     10.10.0.0/16   all()      \n\nNAME   CIDR           SELECTOR      \np2     10.20.0.0/16   zone == 'a'   \n\n",
    );
    assert.equal(res.stderr, 'resource does not exist: IPPool(missing) with error: <nil>\n');
    const yaml = await sb.ok(['get', 'pool', 'p1', 'p2', '-o', 'yaml']);
    assert.match(yaml, /^- apiVersion: projectcalico.org\/v3\n/);
  });

  it('renders -o go-template once over the result slice, with Go field names', async () => {
    const template = '{{range .}}{{.ObjectMeta.Name}} {{.Spec.CIDR}};{{end}}';
    assert.equal(
      await sb.ok(['get', 'pools', 'p1', 'p2', '-o', `go-template=${template}`]),
      'p1 10.10.0.0/16;p2 10.20.0.0/16;',
    );
  });

  it('rejects unknown kinds and bad output formats', async () => {
    const kind = await sb.run(['get', 'somekind']);
    assert.equal(kind.code, 1);
    assert.equal(
      kind.stderr,
      "failed to get resources: resource type 'somekind' is not supported\n",
    );
    const del = await sb.run(['delete', 'Foo', 'x']);
    assert.equal(del.stderr, "resource type 'Foo' is not supported\n");
    const out = await sb.run(['get', 'pools', '-o', 'xml']);
    assert.equal(out.stderr, "unrecognized output format 'xml'\n");
    const cols = await sb.ok(['get', 'pools', '-o', 'custom-columns=NAME,DISABLED']);
    assert.match(cols, /^NAME   DISABLED   \np1     false      \n/);
  });

  it('applies the namespace rules', async () => {
    const ns = await sb.run(['get', 'pools', '-n', 'x']);
    assert.equal(ns.code, 1);
    assert.equal(ns.stderr, 'IPPool is not namespaced\n');
    const both = await sb.run(['get', 'wep', '-n', 'a', '-A']);
    assert.equal(
      both.stderr,
      'cannot use both --namespace and --all-namespaces flags at the same time\n',
    );
    const single = await sb.run(['get', 'wep', 'x', '-A']);
    assert.equal(single.stderr, 'cannot use --all-namespace flag for getting a single resource\n');
    const res = await sb.run([
      'create',
      '-f',
      sb.write(
        'nspool.yaml',
        pool('p9', '10.90.0.0/16').replace('name: p9', 'name: p9\n  namespace: x'),
      ),
    ]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /namespace should not be specified for a non-namespaced resource. IPPool is not a namespaced resource/,
    );
  });

  it("replaces, keeping calicoctl's last-error quirk", async () => {
    const ok = await sb.ok([
      'replace',
      '-f',
      sb.write('r.yaml', pool('p3', '10.30.0.0/16', '  disabled: true\n')),
    ]);
    assert.equal(ok, "Successfully replaced 1 'IPPool' resource(s)\n");
    const missing = await sb.run([
      'replace',
      '-f',
      sb.write('r2.yaml', pool('nope', '10.99.0.0/16')),
    ]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stdout,
      "Partial success: replaced the first 1 out of 1 'IPPool' resources:\n",
    );
    assert.match(missing.stderr, /^hit error: resource does not exist: IPPool\(nope\)/);
    const changed = await sb.run(['apply', '-f', sb.write('r3.yaml', pool('p3', '10.31.0.0/16'))]);
    assert.equal(changed.code, 1);
    assert.match(
      changed.stderr,
      /^failed to apply 'IPPool' resource: \[.*IPPool CIDR cannot be modified/,
    );
  });

  it('patches and labels', async () => {
    assert.equal(
      await sb.ok(['patch', 'pool', 'p4', '-p', '{"spec":{"natOutgoing":true}}']),
      "Successfully patched 1 'IPPool' resource\n",
    );
    assert.match(await sb.ok(['get', 'pool', 'p4', '-o', 'wide']), /p4 +10\.40\.0\.0\/16 +true /);
    const bad = await sb.run(['patch', 'pool', 'nope', '-p', '{}']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^hit error: resource does not exist: IPPool\(nope\)/);
    assert.equal(
      await sb.ok(['label', 'pools', 'p4', 'env=prod']),
      'Successfully set label env on pools p4\n',
    );
    const clash = await sb.run(['label', 'pools', 'p4', 'env=dev']);
    assert.equal(
      clash.stderr,
      "failed to update label of pools p4, key env is already present. please use '--overwrite' to set a new value\n",
    );
    assert.equal(
      await sb.ok(['label', 'pools', 'p4', 'env=dev', '--overwrite']),
      'Successfully updated label env on pools p4\n',
    );
    assert.equal(
      await sb.ok(['label', 'pools', 'p4', 'env', '--remove']),
      'Successfully removed label env from pools p4\n',
    );
    assert.equal(
      (await sb.run(['label', 'pools', 'ghost', 'a=b'])).stderr,
      'pools ghost not found\n',
    );
    assert.equal((await sb.run(['label', 'pools', 'p4', 'a=b=c'])).stderr, 'invalid label a=b=c\n');
  });

  it('reads directories (-R), v1 ipPools, and handles empty input', async () => {
    const dir = join(sb.dir, 'manifests');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.yaml'), V1_POOL);
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    writeFileSync(join(dir, 'sub', 'b.yml'), pool('deep', '10.50.0.0/16'));
    assert.equal(
      await sb.ok(['create', '-f', dir]),
      "Successfully created 1 'IPPool' resource(s)\n",
    );
    assert.match(
      await sb.ok(['get', 'pool', '10-1-0-0-16', '-o', 'wide']),
      /10-1-0-0-16 +10\.1\.0\.0\/16 +true +CrossSubnet +Never +false/,
    );
    assert.equal(
      await sb.ok(['apply', '-R', '-f', dir]),
      "Successfully applied 2 'IPPool' resource(s)\n",
    );
    const empty = sb.write('empty.yaml', '---\n');
    const res = await sb.run(['apply', '-f', empty]);
    assert.equal(res.code, 1);
    assert.equal(res.stderr, `no resources specified in file ${empty}\n`);
    assert.equal(await sb.ok(['apply', '-f', empty, '--skip-empty']), 'No resources specified\n');
    const broken = await sb.run([
      'apply',
      '-f',
      sb.write('broken.yaml', `${pool('zz', '10.60.0.0/16')}  bogus: 1\n`),
    ]);
    assert.equal(broken.code, 1);
    assert.match(
      broken.stderr,
      /^failed to execute command: field in document is not recognized or is in the wrong location: bogus/,
    );
    assert.equal((await sb.run(['get', 'pool', 'zz'])).code, 1);
  });

  it('deletes by name (continuing past missing ones) and by file', async () => {
    const res = await sb.run(['delete', 'pool', 'p3', 'ghost', 'p4']);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, "Successfully deleted 2 'IPPool' resource(s)\n");
    assert.equal(
      res.stderr,
      "Failed to delete 'IPPool' resource: resource does not exist: IPPool(ghost) with error: <nil>\n\n",
    );
    assert.equal(
      await sb.ok(['delete', 'pool', 'ghost', '--skip-not-exists']),
      "Successfully deleted 1 'IPPool' resource(s)\n",
    );
    assert.equal(
      await sb.ok(['delete', '-f', `${sb.dir}/two.yaml`]),
      "Successfully deleted 2 'IPPool' resource(s)\n",
    );
  });

  // --help and unknown flags: friendliness.test.ts.
  it('rejects an unknown log level and prints the version', async () => {
    const level = await sb.run(['-l', 'loud', 'version']);
    assert.equal(level.code, 1);
    assert.equal(
      level.stderr,
      'Unknown log level: loud, expected one of: \npanic, fatal, error, warn, info, debug.\n',
    );
    assert.match(await sb.ok(['version']), /^Client Version: +v\d+\.\d+\.\d+\n/);
  });
});
