// Spawn tests of how the CLI fails: --help everywhere, one clear stderr line for bad commands,
// flags, files and datastores, and never a stack trace (surfaces.md §1.1, §1.3).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sandboxForSuite, type CliRun } from './support.js';

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: p1
spec:
  cidr: 10.10.0.0/16
`;

const POOL_JSON = {
  kind: 'IPPool',
  apiVersion: 'projectcalico.org/v3',
  metadata: { name: 'p1' },
};

/** Every command and subcommand, as a user would ask for its help. */
const COMMANDS = [
  [],
  ['create'],
  ['apply'],
  ['replace'],
  ['delete'],
  ['get'],
  ['patch'],
  ['label'],
  ['validate'],
  ['convert'],
  ['version'],
  ['ipam'],
  ['ipam', 'show'],
  ['ipam', 'check'],
  ['ipam', 'release'],
  ['ipam', 'configure'],
  ['ipam', 'split'],
  ['ipam', 'assign'],
  ['datastore'],
  ['datastore', 'migrate'],
  ['datastore', 'migrate', 'lock'],
  ['datastore', 'migrate', 'unlock'],
  ['node'],
  ['node', 'checksystem'],
];

/** A failed run: exit 1, nothing on stdout, exactly `expected` (one line) on stderr. */
function assertOneLineError(res: CliRun, expected: string | RegExp): void {
  assert.equal(res.code, 1, res.stderr);
  assert.equal(res.stdout, '');
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(res.stderr.split('\n').length, 2, `one line: ${res.stderr}`);
  if (typeof expected === 'string') assert.equal(res.stderr, `${expected}\n`);
  else assert.match(res.stderr, expected);
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('CLI friendliness', () => {
  const sb = sandboxForSuite();

  it('prints help on stdout and exits 0 for every command and subcommand', async () => {
    const runs = await Promise.all(COMMANDS.map((args) => sb.run([...args, '--help'])));
    runs.forEach((res, i) => {
      const name = ['cidrpool', ...COMMANDS[i]!].join(' ');
      assert.equal(res.code, 0, name);
      assert.equal(res.stderr, '', name);
      assert.ok(res.stdout.startsWith(`Usage: ${name}`), `${name}: ${res.stdout.slice(0, 60)}`);
    });
  });

  it('reports an unknown command or flag in one stderr line', async () => {
    assertOneLineError(await sb.run(['frobnicate']), "error: unknown command 'frobnicate'");
    assertOneLineError(await sb.run(['ipam', 'frobnicate']), "error: unknown command 'frobnicate'");
    assertOneLineError(
      await sb.run(['get', 'pools', '--bogus']),
      "error: unknown option '--bogus'",
    );
    assertOneLineError(
      await sb.run(['ipam', 'show', '--bogus']),
      "error: unknown option '--bogus'",
    );
  });

  it('reports -f problems in calicoctl words', async () => {
    const missing = join(sb.dir, 'missing.yaml');
    assertOneLineError(
      await sb.run(['create', '-f', missing]),
      `failed to execute command: open ${missing}: no such file or directory`,
    );
    const dir = join(sb.dir, 'nothing');
    mkdirSync(dir);
    sb.write('nothing/readme.txt', 'not a manifest');
    assertOneLineError(
      await sb.run(['apply', '-f', dir]),
      `no resources specified in directory ${dir}`,
    );
    // The first line is calicoctl's exact text; where it happened follows, indented.
    const path = sb.write('kind.yaml', POOL.replace('kind: IPPool', 'kind: ippool'));
    const kind = await sb.run(['create', '-f', path]);
    assert.equal(kind.code, 1);
    assert.equal(
      kind.stderr,
      `failed to execute command: unknown resource type (ippool) and/or version (projectcalico.org/v3)\n  at ${path}:2:7\n  kind: ippool\n        ^\n`,
    );
    const field = await sb.run(['apply', '-f', sb.write('field.yaml', `${POOL}  bogus: 1\n`)]);
    assert.equal(field.code, 1);
    assert.equal(
      field.stderr.split('\n')[0],
      'failed to execute command: field in document is not recognized or is in the wrong location: bogus',
    );
  });

  it('reports a bad -c file or an unreachable etcd in one line', async () => {
    const cfg = join(sb.dir, 'nope.cfg');
    assertOneLineError(
      await sb.run(['get', 'pools', '-c', cfg]),
      `Error reading config file: ${cfg}`,
    );
    const bad = sb.write(
      'bad.cfg',
      'apiVersion: projectcalico.org/v3\nkind: Foo\nmetadata: {}\nspec: {}\n',
    );
    assertOneLineError(await sb.run(['get', 'pools', '-c', bad]), /^config file .*bad\.cfg: /);
    const port = await closedPort();
    const env = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: `http://127.0.0.1:${port}` };
    for (const args of [
      ['get', 'pools'],
      ['ipam', 'show'],
    ]) {
      assertOneLineError(
        await sb.run(args, { env }),
        /^cannot reach etcd at http:\/\/127\.0\.0\.1:\d+/,
      );
    }
  });

  it('reports report-file problems of ipam check and release in Go words', async () => {
    const out = join(sb.dir, 'no-such-dir', 'report.json');
    const check = await sb.run(['ipam', 'check', '-o', out]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /^Checking IPAM for inconsistencies\.\.\./);
    assert.equal(check.stderr, `open ${out}: no such file or directory\n`);
    assertOneLineError(
      await sb.run(['ipam', 'release', `--from-report=${out}`]),
      `failed to read report ${out}: open ${out}: no such file or directory`,
    );
  });
  it('reports a corrupt stored value without a stack trace', async () => {
    await sb.ok(['create', '-f', sb.write('pool.yaml', POOL)]);
    const db = new Database(join(sb.dir, 'data', 'cidrpool.db'));
    try {
      db.prepare(
        "UPDATE kv SET value = '{broken' WHERE CAST(key AS TEXT) LIKE '%/ippools/p1'",
      ).run();
    } finally {
      db.close();
    }
    assertOneLineError(
      await sb.run(['get', 'pool', 'p1']),
      /^stored resource is not valid JSON: .*\/ippools\/p1\n$/,
    );
    assertOneLineError(await sb.run(['get', 'pools']), /^failed to get resources: stored resource/);
    // A value of the wrong type (written by another tool) still lists, as text.
    const db2 = new Database(join(sb.dir, 'data', 'cidrpool.db'));
    try {
      db2
        .prepare("UPDATE kv SET value = ? WHERE CAST(key AS TEXT) LIKE '%/ippools/p1'")
        .run(JSON.stringify({ ...POOL_JSON, spec: { cidr: 5 } }));
    } finally {
      db2.close();
    }
    const wide = await sb.run(['get', 'pools', '-o', 'wide']);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, /^NAME +CIDR .*\np1 +5 +false /);
    // Whatever a deeper layer makes of it, the user sees at most one line and no stack.
    const show = await sb.run(['ipam', 'show']);
    assert.doesNotMatch(show.stderr, /\n\s+at /);
    assert.ok(show.stderr.split('\n').length <= 2, show.stderr);
  });
});
