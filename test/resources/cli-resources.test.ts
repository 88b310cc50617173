// Spawn tests of resource behaviour the seed documents and the spec describe, through the real
// CLI: what a user who writes the manifests of seeds 000-002 sees.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox, type Sandbox } from '../cli/support.js';

const v1Pool = (cidr: string, spec: string): string =>
  `apiVersion: v1\nkind: ipPool\nmetadata:\n  cidr: ${cidr}\nspec:\n${spec}`;

describe('resources through the CLI', () => {
  let sb: Sandbox;
  before(() => {
    sb = createSandbox();
  });
  after(() => sb.cleanup());

  it('v1 ipPool: ipip.enabled defaults to true when the ipip object is given (seed 000)', async () => {
    const path = sb.write(
      'v1-mode.yaml',
      v1Pool('10.7.0.0/16', '  ipip:\n    mode: cross-subnet\n'),
    );
    const out = await sb.ok(['convert', '-f', path, '-o', 'json']);
    assert.equal(JSON.parse(out).spec.ipipMode, 'CrossSubnet');
    await sb.ok(['create', '-f', path]);
    const got = JSON.parse(await sb.ok(['get', 'ippool', '10-7-0-0-16', '-o', 'json']));
    assert.equal(got.spec.ipipMode, 'CrossSubnet');
    const none = sb.write('v1-none.yaml', v1Pool('10.8.0.0/16', '  nat-outgoing: true\n'));
    assert.equal(
      JSON.parse(await sb.ok(['convert', '-f', none, '-o', 'json'])).spec.ipipMode,
      'Never',
    );
    const v6 = sb.write('v1-v6.yaml', v1Pool('fd00:7::/64', '  ipip: {}\n'));
    const res = await sb.run(['convert', '-f', v6]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /IPIP is not supported on an IPv6 IP pool/);
  });
});
