// Spawn tests for details of surfaces.md §1-§2 found in an audit against the spec: each one
// runs the real ./bin/cidrpool and checks what a calicoctl user would see.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxForSuite } from './support.js';

const POOL_AND_NODE = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.0.0.0/26
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec: {}
`;

describe('calicoctl output details', () => {
  const sb = sandboxForSuite({ setup: POOL_AND_NODE });

  it('writes the ipam check report allocations in Go map key order', async () => {
    await sb.ok(['ipam', 'assign', '--node', 'node-1', '--handle', 'h1', '--ipv4', '11']);
    const report = sb.dir + '/report.json';
    await sb.ok(['ipam', 'check', '-o', report]);
    const text = sb.read('report.json');
    const ips = [...text.matchAll(/^ {4}"([0-9.]+)": \[/gm)].map((m) => m[1]);
    assert.equal(ips.length, 11);
    assert.deepEqual(ips, [...ips].sort());
    assert.equal(ips[2], '10.0.0.10');
  });

  it('prints labels in key order with -o json', async () => {
    await sb.ok(['label', 'nodes', 'node-1', 'zone=a']);
    await sb.ok(['label', 'nodes', 'node-1', 'rack=r1']);
    const json = JSON.parse(await sb.ok(['get', 'node', 'node-1', '-o', 'json'])) as {
      metadata: { labels: Record<string, string> };
    };
    assert.deepEqual(Object.keys(json.metadata.labels), ['rack', 'zone']);
  });

  it('refuses an empty name in label as in get, delete and patch', async () => {
    for (const args of [
      ['label', 'ippool', '', 'a=b'],
      ['get', 'ippool', ''],
      ['delete', 'ippool', ''],
      ['patch', 'ippool', '', '-p', '{}'],
    ]) {
      const run = await sb.run(args);
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(run.stderr, 'resource name may not be empty\n', args.join(' '));
      assert.equal(run.stdout, '');
    }
  });

  it('refuses --max-blocks-per-host above 1000000 before writing anything', async () => {
    const before = await sb.ok(['ipam', 'show', '--show-configuration']);
    const run = await sb.run([
      'ipam',
      'configure',
      '--strictaffinity=true',
      '--max-blocks-per-host=2000000',
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^invalid value for maxblockhost\. Use a valid number from 0 to 1000000/,
    );
    assert.equal(run.stdout, '');
    assert.equal(await sb.ok(['ipam', 'show', '--show-configuration']), before);
  });

  it("prints the how-to's !all() selector single-quoted, as calicoctl does, and applies it back", async () => {
    const manual = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: manual-only
spec:
  cidr: 10.0.5.0/24
  nodeSelector: '!all()'
`;
    await sb.ok(['create', '-f', sb.write('manual.yaml', manual)]);
    const yaml = await sb.ok(['get', 'ippool', 'manual-only', '-o', 'yaml']);
    assert.match(yaml, /^ {2}nodeSelector: '!all\(\)'$/m);
    assert.equal(
      await sb.ok(['apply', '-f', sb.write('back.yaml', yaml)]),
      "Successfully applied 1 'IPPool' resource(s)\n",
    );
  });

  it('ends the delete failures with one blank line, as calicoctl prints its joined error', async () => {
    const run = await sb.run(['delete', 'ippool', 'ghost-1', 'ghost-2']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      "Failed to delete 'IPPool' resource: resource does not exist: IPPool(ghost-1) with error: <nil>\n" +
        "Failed to delete 'IPPool' resource: resource does not exist: IPPool(ghost-2) with error: <nil>\n\n",
    );
  });

  it('reports a failed release from a report on stdout, cleans handles, then exits 1', async () => {
    await sb.ok(['ipam', 'assign', '--node', 'node-1', '--handle', 'leaky']);
    await sb.ok(['datastore', 'migrate', 'lock']);
    try {
      const report = `${sb.dir}/leak.json`;
      await sb.ok(['ipam', 'check', '-o', report]);
      const first = await sb.ok(['ipam', 'release', '--from-report', report]);
      assert.match(first, /^Released \d+ IPs successfully$/m);
      // The same report again: its sequence numbers no longer match what the blocks hold.
      const again = await sb.run(['ipam', 'release', '--from-report', report]);
      assert.equal(again.code, 1);
      assert.equal(again.stderr, '');
      const lines = again.stdout.split('\n');
      assert.match(lines[0]!, /^Releasing \d+ old IPs\.\.\.$/);
      assert.match(
        lines[1]!,
        /^An error occurred while releasing some IPs: .+\.  Problems are often caused by an out-of-date IPAM report\.  Try regenerating the IPAM report and retry\.$/,
      );
      assert.doesNotMatch(again.stdout, /IPs successfully/);
      assert.equal(lines[lines.length - 2], 'You may now unlock the data store.');
    } finally {
      await sb.ok(['datastore', 'migrate', 'unlock']);
    }
  });

  it("keeps calicoctl's label failure line and says why below it", async () => {
    const run = await sb.run(['label', 'ippool', 'pool-a', 'bad key=1']);
    assert.equal(run.code, 1);
    const [first, reason] = run.stderr.split('\n');
    assert.equal(first, 'failed to update ippool pool-a, label not changed');
    assert.match(reason!, /^ {2}- metadata\.labels\["bad key"\]: "bad key" /);
    const labels = await sb.ok(['get', 'ippool', 'pool-a', '-o', 'yaml']);
    assert.doesNotMatch(labels, /bad key/);
  });

  it('folds a long selector in -o yaml as calicoctl does, and applies it back unchanged', async () => {
    const selector =
      "has(kubernetes.io/hostname) && kubernetes.io/hostname in {'node-1', 'node-2', 'node-3'} && zone == 'a'";
    const pool = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: long-selector
spec:
  cidr: 10.0.6.0/24
  nodeSelector: "${selector}"
`;
    await sb.ok(['create', '-f', sb.write('long.yaml', pool)]);
    const yaml = await sb.ok(['get', 'ippool', 'long-selector', '-o', 'yaml']);
    assert.ok(
      yaml.includes(
        "  nodeSelector: has(kubernetes.io/hostname) && kubernetes.io/hostname in {'node-1',\n" +
          "    'node-2', 'node-3'} && zone == 'a'\n",
      ),
      yaml,
    );
    await sb.ok(['apply', '-f', sb.write('long-back.yaml', yaml)]);
    const json = JSON.parse(await sb.ok(['get', 'ippool', 'long-selector', '-o', 'json'])) as {
      spec: { nodeSelector: string };
    };
    assert.equal(json.spec.nodeSelector, selector);
  });
});
