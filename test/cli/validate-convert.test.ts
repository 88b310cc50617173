// Spawn tests of the offline commands: validate (every issue of every document) and convert
// (v1 ipPool -> v3, surfaces.md §5.3). Neither needs a datastore.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertGolden, sandboxForSuite } from './support.js';
import { V1_POOL } from './seed-manifests.js';

const GOOD = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
  - Workload
  - Tunnel
`;
const BAD = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: Bad_Name
spec:
  cidr: 10.0.0.7/24
  ipipMode: Always
  vxlanMode: Always
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: x
spec:
  cidr: 10.3.0.0/16
  foo: bar
`;

describe('validate and convert', () => {
  const sb = sandboxForSuite({ env: { CIDRPOOL_DATA_DIR: '/nonexistent/never-created' } });

  it('validates good manifests, v1 included, offline', async () => {
    const out = await sb.ok(['validate', '-f', sb.write('good.yaml', `${GOOD}---\n${V1_POOL}`)]);
    assert.equal(out, "Successfully validated 2 'IPPool' resource(s)\n");
  });

  it('prints every issue of every invalid document, and exits 1', async () => {
    const path = sb.write('bad.yaml', `${GOOD}---\n${BAD}`);
    const res = await sb.run(['validate', '-f', path]);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    const lines = res.stderr.split('\n');
    // libcalico's several-field text, as create prints it (surfaces.md §1.5).
    assert.equal(lines[0], 'hit error(s): [error with the following fields:');
    assert.match(lines[1]!, /^- {2}metadata\.name = 'Bad_Name' \(/);
    // GOOD is 13 lines, then `---`: the bad pool starts on line 15.
    assert.ok(res.stderr.includes(`${path}: document 2, line 15: IPPool(Bad_Name):`));
    assert.ok(res.stderr.includes('  - metadata.name: "Bad_Name"'));
    assert.ok(res.stderr.includes('  - spec.cidr: "10.0.0.7/24"'));
    assert.ok(res.stderr.includes('10.0.0.0/24'), 'the hint names the masked network');
    assert.ok(res.stderr.includes('  - spec.vxlanMode: "Always"'));
    assert.ok(res.stderr.includes(`${path}: document 3:`));
    assert.match(
      res.stderr,
      /field in document is not recognized or is in the wrong location: foo/,
    );
  });

  it('handles empty input like the other -f commands', async () => {
    const empty = sb.write('empty.yaml', '');
    assert.equal(
      (await sb.run(['validate', '-f', empty])).stderr,
      `no resources specified in file ${empty}\n`,
    );
    assert.equal(
      await sb.ok(['validate', '-f', empty, '--skip-empty']),
      'No resources specified\n',
    );
  });

  it('converts the v1 ipPool of the reference docs to the v3 form (YAML and JSON)', async () => {
    const path = sb.write('v1.yaml', V1_POOL);
    assertGolden('convert-v1-ippool.yaml', await sb.ok(['convert', '-f', path]));
    assertGolden('convert-v1-ippool.json', await sb.ok(['convert', '-f', path, '-o', 'json']));
  });

  it('wraps several converted pools in a List and refuses v3 input', async () => {
    const two = `${V1_POOL}---\n${V1_POOL.replace('10.1.0.0/16', 'fd00:1234::/64').replace('    enabled: true', '    enabled: false')}`;
    const out = await sb.ok(['convert', '-f', sb.write('two.yaml', two)]);
    assert.match(out, /^apiVersion: v1\nitems:\n- apiVersion: projectcalico.org\/v3\n/);
    assert.match(out, /name: fd00-1234---64/);
    assert.match(out, /kind: List\nmetadata: \{\}\n$/);
    const v3 = await sb.run(['convert', '-f', sb.write('v3.yaml', GOOD)]);
    assert.equal(v3.code, 1);
    assert.equal(
      v3.stderr,
      'failed to create resources from file: unknown resource type (IPPool) and/or version (projectcalico.org/v3)\n',
    );
    const format = await sb.run(['convert', '-f', `${sb.dir}/v1.yaml`, '-o', 'wide']);
    assert.equal(format.stderr, "unrecognized output format 'wide'\n");
  });
});
