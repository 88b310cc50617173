// Reading manifests: multi-document YAML, arrays, Lists, JSON, strictness with positions, sources.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { CidrpoolError, isCidrpoolError } from '../../src/errors/index.js';
import { readManifests, readManifestSource, validateResource } from '../../src/resources/index.js';

const dir = fileURLToPath(new URL('../../../test/fixtures/manifests/', import.meta.url));
const fixture = (name: string): string => readFileSync(`${dir}${name}`, 'utf8');
const names = (text: string): string[] =>
  readManifests(text, 't.yaml').map((r) => `${r.resource.kind}/${r.resource.metadata.name}`);

/** The CidrpoolError `fn` throws. */
function caught(fn: () => unknown): CidrpoolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CidrpoolError) return err;
    throw err;
  }
  assert.fail('expected an error');
}

const POOL = (name: string, cidr: string): string =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n`;

describe('readManifests', () => {
  it('reads the seed samples and they validate', () => {
    for (const file of ['v3-my-ippool.yaml', 'new-pool.yaml', 'block-size-28.yaml']) {
      const [read] = readManifests(fixture(file), file);
      assert.ok(read, file);
      assert.deepEqual(validateResource(read.resource), [], file);
    }
    const [mine] = readManifests(fixture('v3-my-ippool.yaml'), 'x');
    assert.deepEqual(mine?.resource.spec, {
      cidr: '10.1.0.0/16',
      ipipMode: 'CrossSubnet',
      natOutgoing: true,
      disabled: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
    });
  });

  it('splits documents at lines starting with ---, dropping the rest of the line', () => {
    const text = `---\n${POOL('a', '10.0.0.0/16')}--- # next\n${POOL('b', '10.1.0.0/16')}---garbage\n\n---\n# only a comment\n`;
    assert.deepEqual(names(text), ['IPPool/a', 'IPPool/b']);
    const read = readManifests(text, 't.yaml');
    assert.deepEqual(
      read.map((r) => [r.document, r.position.line]),
      [
        [2, 2],
        [3, 9],
      ],
    );
  });

  it('reads an array of objects and a typed List', () => {
    const array = `- ${POOL('a', '10.0.0.0/16').replace(/\n(?=.)/g, '\n  ')}- ${POOL('b', '10.1.0.0/16').replace(/\n(?=.)/g, '\n  ')}`;
    assert.deepEqual(names(array), ['IPPool/a', 'IPPool/b']);
    const list = readManifests(fixture('pool-list.yaml'), 'pool-list.yaml');
    assert.deepEqual(
      list.map((r) => r.resource.metadata.name),
      ['pool-a', 'pool-b'],
    );
    assert.equal(list[0]?.resource.metadata.creationTimestamp, undefined, 'nulls are dropped');
    assert.equal(list[1]?.position.line, 22);
  });

  it('reads the docs-style List without a kind (seed 003)', () => {
    assert.deepEqual(names(fixture('pool-list-kindless.yaml')), [
      'IPPool/default-ipv4-ippool',
      'IPPool/new-pool',
    ]);
  });

  it('reads JSON, one object or an array, of several kinds', () => {
    assert.deepEqual(names(fixture('mixed.json')), [
      'IPReservation/gateways',
      'IPAMConfiguration/default',
    ]);
    const one = JSON.stringify({
      kind: 'Node',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name: 'n1' },
      spec: {},
    });
    assert.deepEqual(names(one), ['Node/n1']);
    assert.deepEqual(
      names(
        '{\n\t"kind": "Node",\n\t"apiVersion": "projectcalico.org/v3",\n\t"metadata": {"name": "n2"}\n}\n',
      ),
      ['Node/n2'],
    );
  });

  it('gives nothing for empty input', () => {
    assert.deepEqual(readManifests('', 'x'), []);
    assert.deepEqual(readManifests('---\n---\n# nothing\n', 'x'), []);
  });

  it('rejects an unknown field with line, column and a caret excerpt', () => {
    const text = `${POOL('a', '10.0.0.0/16')}---\n${POOL('b', '10.1.0.0/16')}  natoutgoing: true\n`;
    const err = caught(() => readManifests(text, 'pools.yaml'));
    assert.equal(err.code, 'RES_UNKNOWN_FIELD');
    assert.equal(
      err.message,
      'field in document is not recognized or is in the wrong location: natoutgoing (pools.yaml:14:3)',
    );
    assert.deepEqual(err.position, { line: 14, column: 3 });
    assert.equal(err.excerpt, '  natoutgoing: true\n  ^');
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['spec.natoutgoing'],
    );
  });

  it('rejects a field in the wrong place, inside a List item', () => {
    const text = fixture('pool-list.yaml').replace(
      '  spec:\n    cidr: fd00',
      '  cidr: x\n  spec:\n    cidr: fd00',
    );
    const err = caught(() => readManifests(text, 'l.yaml'));
    assert.equal(err.code, 'RES_UNKNOWN_FIELD');
    assert.match(err.message, /wrong location: cidr \(l\.yaml:26:3\)$/);
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['items[1].cidr'],
    );
  });

  it('rejects the deprecated v3.31 fields as unknown', () => {
    const err = caught(() =>
      readManifests(`${POOL('a', '10.0.0.0/16')}  nat-outgoing: true\n`, 'x'),
    );
    assert.equal(err.code, 'RES_UNKNOWN_FIELD');
  });

  it('rejects unknown kinds and versions exactly', () => {
    const table: [string, string][] = [
      [
        'apiVersion: projectcalico.org/v3\nkind: ippool\nmetadata: {name: a}\n',
        'unknown resource type (ippool) and/or version (projectcalico.org/v3)',
      ],
      [
        'apiVersion: v1\nkind: IPPool\nmetadata: {name: a}\n',
        'unknown resource type (IPPool) and/or version (v1)',
      ],
      [
        'apiVersion: v1\nkind: List\nitems: []\n',
        'unknown resource type (List) and/or version (v1)',
      ],
      ['metadata: {name: a}\n', 'unknown resource type () and/or version ()'],
    ];
    for (const [text, message] of table) {
      const err = caught(() => readManifests(text, 'k.yaml'));
      assert.equal(err.code, 'RES_UNKNOWN_KIND');
      assert.ok(err.message.startsWith(message), err.message);
    }
  });

  it('names the missing kind or apiVersion, and echoes a long line only in part (issue 15)', () => {
    const noVersion = caught(() => readManifests('kind: IPPool\nmetadata: {name: a}\n', 'k'));
    assert.match(noVersion.message, /and\/or version \(\): the document has no apiVersion \(/);
    const none = caught(() => readManifests('metadata: {name: a}\n', 'k'));
    assert.match(none.message, /the document has no kind and no apiVersion/);
    const long = `kind: ${'x'.repeat(4096)}\n`;
    const err = caught(() => readManifests(long, 'k'));
    assert.ok(err.message.length < 600, `${err.message.length} characters`);
    assert.ok(err.excerpt!.length < 300, `${err.excerpt!.length} characters`);
  });

  it('refuses a __proto__ key anywhere, labels included (issue 15)', () => {
    for (const where of ['  labels:\n    __proto__: x\n', '  __proto__: {}\n']) {
      const text = `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\n${where}spec:\n  cidr: 10.0.0.0/16\n`;
      const err = caught(() => readManifests(text, 'p.yaml'));
      assert.equal(err.code, 'RES_UNKNOWN_FIELD');
      assert.match(err.message, /not recognized or is in the wrong location: __proto__/);
    }
  });

  it('rejects wrong types and enum values', () => {
    const err = caught(() =>
      readManifests(`${POOL('a', '10.0.0.0/16')}  blockSize: "26"\n  ipipMode: always\n`, 'x'),
    );
    assert.equal(err.code, 'RES_INVALID');
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['spec.blockSize', 'spec.ipipMode'],
    );
    assert.deepEqual(err.position, { line: 7, column: 14 });
  });

  it('reports YAML syntax errors with a position', () => {
    const err = caught(() =>
      readManifests(`${POOL('a', '10.0.0.0/16')}---\nkind: [unclosed\n`, 'bad.yaml'),
    );
    assert.equal(err.code, 'RES_MANIFEST_SYNTAX');
    assert.ok(err.position && err.position.line >= 8, JSON.stringify(err.position));
  });

  it('refuses a document over 10 MiB before parsing it', () => {
    const big = `${POOL('a', '10.0.0.0/16')}---\n# ${'x'.repeat(10 * 1024 * 1024)}\n`;
    const err = caught(() => readManifests(big, 'big.yaml'));
    assert.equal(err.code, 'RES_MANIFEST_SYNTAX');
    assert.match(err.message, /^document 2 is larger than the 10 MiB limit \(big\.yaml:8:1\)$/);
  });

  it('rejects duplicate keys', () => {
    const err = caught(() =>
      readManifests(`${POOL('a', '10.0.0.0/16')}  cidr: 10.1.0.0/16\n`, 'dup.yaml'),
    );
    assert.equal(err.code, 'RES_MANIFEST_SYNTAX');
  });

  it('converts a v1 pool in a List-free multi-document stream next to v3', () => {
    const text = `${fixture('v1-ippool.yaml')}---\n${fixture('new-pool.yaml')}`;
    assert.deepEqual(names(text), ['IPPool/10-1-0-0-16', 'IPPool/new-pool']);
  });

  it('rejects a v1 pool that breaks the v1 rules, at metadata.cidr', () => {
    const err = caught(() =>
      readManifests(fixture('v1-ippool.yaml').replace('10.1.0.0/16', '10.1.0.0/28'), 'v1.yaml'),
    );
    assert.equal(err.code, 'RES_INVALID');
    assert.match(err.message, /too small \(min \/26\)/);
    assert.deepEqual(err.position, { line: 5, column: 9 });
  });
});

describe('readManifestSource', () => {
  it('reads one file', async () => {
    const src = await readManifestSource(`${dir}new-pool.yaml`);
    assert.equal(src.type, 'file');
    assert.deepEqual(
      src.resources.map((r) => r.resource.metadata.name),
      ['new-pool'],
    );
  });

  it('reads a directory top level in lexical order, ignoring other files', async () => {
    const src = await readManifestSource(`${dir}dir`);
    assert.equal(src.type, 'directory');
    assert.deepEqual(
      src.files.map((f) => f.slice(dir.length)),
      ['dir/a.YML', 'dir/b.yaml'],
    );
  });

  it('walks subdirectories with recursive', async () => {
    const src = await readManifestSource(`${dir}dir`, { recursive: true });
    assert.deepEqual(
      src.files.map((f) => f.slice(dir.length)),
      ['dir/a.YML', 'dir/b.yaml', 'dir/sub/c.json'],
    );
    assert.equal(src.resources.length, 4);
  });

  it('reads stdin for -', async () => {
    const src = await readManifestSource('-', {
      stdin: Readable.from([Buffer.from(POOL('s', '10.9.0.0/16'))]),
    });
    assert.equal(src.type, 'stdin');
    assert.equal(src.resources[0]?.resource.metadata.name, 's');
  });

  it('fails for a missing path with Go-like text', async () => {
    await assert.rejects(readManifestSource(`${dir}missing.yaml`), (err) => {
      assert.ok(isCidrpoolError(err, 'RES_MANIFEST_READ'));
      assert.equal(err.message, `open ${dir}missing.yaml: no such file or directory`);
      return true;
    });
  });
});
