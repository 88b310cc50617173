// Issue 15, items 6 and 7: global options before the command, as calicoctl takes them, and an
// endless input refused by name (spawned CLI).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSandbox, runCli, type Sandbox } from '../cli/support.js';

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: from-config
spec:
  cidr: 10.91.0.0/16
`;

describe('cidrpool command line inputs', () => {
  let sb: Sandbox;
  let config: string;
  before(() => {
    sb = createSandbox();
    config = sb.write(
      'calicoctl.cfg',
      `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: embedded\n  dataDir: ${join(sb.dir, 'other-data')}\n`,
    );
  });
  after(() => sb.cleanup());

  it('takes -c/--config before the command, as calicoctl does', async () => {
    // No CIDRPOOL_DATA_DIR: only the config file names the store.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sb.dir };
    const create = await runCli(['-c', config, 'create', '-f', sb.write('p.yaml', POOL)], env);
    assert.equal(create.code, 0, create.stderr);
    for (const args of [
      ['-c', config, 'get', 'ippool'],
      [`--config=${config}`, '-l', 'warn', 'get', 'ippool'],
      ['get', 'ippool', '-c', config],
    ]) {
      const run = await runCli(args, env);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stdout, /from-config\s+10\.91\.0\.0\/16/, args.join(' '));
    }
    const check = await runCli(['-c', config, 'ipam', 'check'], env);
    assert.equal(check.code, 0, check.stderr);
  });

  it('refuses an endless -f input by name, quickly', async () => {
    const run = await sb.run(['apply', '-f', '/dev/zero']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\/dev\/zero holds more than 64 MiB/);
  });
});
