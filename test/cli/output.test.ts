// Unit tests of the CLI renderers against text taken from surfaces.md (§1.6, §2.1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { PoolUtilization } from '../../src/ipam/types.js';
import type { IPPool, Node } from '../../src/resources/types.js';
import { reportBatch, reportDelete, reportReplace } from '../../src/cli/output/batch-messages.js';
import { parseOutputFormat, renderObjects, toList } from '../../src/cli/output/format.js';
import { renderJson } from '../../src/cli/output/json.js';
import { formatCountWithPercent, formatG5, percentHalfEven } from '../../src/cli/output/numbers.js';
import {
  renderAllocation,
  renderConfiguration,
  renderUtilization,
} from '../../src/cli/output/ipam-show.js';
import { renderTabTable } from '../../src/cli/output/tabwriter.js';
import { compareYamlKeys, renderYaml } from '../../src/cli/output/yaml.js';
import { goScalarStyle } from '../../src/cli/output/go-yaml-scalar.js';
import { resolveKind } from '../../src/cli/kinds.js';
import { resolveNamespace } from '../../src/cli/namespaces.js';

const golden = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/golden/cli/${name}`, import.meta.url), 'utf8');

const fixturePool: IPPool = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name: 'ippool-name1', resourceVersion: '7' },
  spec: {
    cidr: '10.0.1.0/24',
    ipipMode: 'Always',
    natOutgoing: false,
    nodeSelector: "foo == 'bar'",
    assignmentMode: 'Automatic',
  },
};

describe('numbers (Go %.5g and half-even percentages)', () => {
  it('formats counts like Go %.5g', () => {
    assert.equal(formatG5(64n), '64');
    assert.equal(formatG5(65536n), '65536');
    assert.equal(formatG5(100000n), '1e+05');
    assert.equal(formatG5(131072n), '1.3107e+05');
    assert.equal(formatG5(1048576n), '1.0486e+06');
    assert.equal(formatG5(2n ** 80n), '1.2089e+24');
    assert.equal(formatG5(0n), '0');
    assert.equal(formatG5(999995n), '1e+06');
    assert.equal(formatG5(100005n), '1e+05'); // exact tie: half to even
  });
  it('rounds percentages half to even', () => {
    assert.equal(percentHalfEven(1n, 8n), 12n); // 12.5
    assert.equal(percentHalfEven(3n, 8n), 38n); // 37.5
    assert.equal(percentHalfEven(5n, 8n), 62n); // 62.5
    assert.equal(percentHalfEven(1n, 40n), 2n); // 2.5
    assert.equal(formatCountWithPercent(65531n, 65536n), '65531 (100%)');
  });
});

describe('ipam show tables (tablewriter v0.0.5)', () => {
  const pools: PoolUtilization[] = [
    {
      name: 'p1',
      cidr: '10.65.0.0/16',
      capacity: 65536n,
      inUse: 5n,
      reserved: 0n,
      available: 65531n,
      blocks: [
        {
          cidr: '10.65.79.0/26',
          affinity: 'host:n1',
          capacity: 64n,
          inUse: 5n,
          reserved: 0n,
          available: 59n,
        },
      ],
    },
    {
      name: 'p2',
      cidr: '10.66.0.0/16',
      capacity: 65536n,
      inUse: 11n,
      reserved: 0n,
      available: 65525n,
      blocks: [
        { cidr: '10.66.137.224/29', capacity: 8n, inUse: 8n, reserved: 0n, available: 0n },
        { cidr: '10.66.137.232/29', capacity: 8n, inUse: 3n, reserved: 0n, available: 5n },
      ],
    },
    {
      name: 'p3',
      cidr: 'fd5f:abcd:64::/48',
      capacity: 2n ** 80n,
      inUse: 7n,
      reserved: 0n,
      available: 2n ** 80n - 7n,
      blocks: [
        {
          cidr: 'fd5f:abcd:64:4f2c:ec1b:27b9:1989:77c0/122',
          capacity: 64n,
          inUse: 7n,
          reserved: 0n,
          available: 57n,
        },
      ],
    },
  ];
  it('renders the --show-blocks example of surfaces.md §2.1', () => {
    assert.equal(renderUtilization(pools, true), golden('ipam-show-blocks.txt'));
  });
  it('omits block rows without --show-blocks, and the orphan group row always', () => {
    const orphan: PoolUtilization = {
      cidr: '0.0.0.0/0',
      capacity: 0n,
      inUse: 0n,
      reserved: 0n,
      available: 0n,
      blocks: [],
    };
    const text = renderUtilization([...pools, orphan], false);
    assert.equal(text.split('\n').filter((l) => l.startsWith('| ')).length, 4);
    assert.ok(!text.includes('Block '));
  });
  it('prints only borders and header with no pools', () => {
    assert.equal(renderUtilization([], false).split('\n').length, 5);
  });
  it('right-aligns numeric config values', () => {
    const text = renderConfiguration({
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
      ipCooldownSeconds: 0,
    });
    assert.match(text, /\| MaxBlocksPerHost +\| +0 \|/);
    assert.match(text, /\| StrictAffinity +\| false +\|/);
  });
  it('prints an assigned IP with sorted attributes', () => {
    const text = renderAllocation('10.65.79.2', {
      ip: '10.65.79.2',
      blockCidr: '10.65.79.0/26',
      handleId: 'k8s-pod-network.abc',
      attrs: { pod: 'nginx', namespace: 'default', node: 'node-1' },
      sequenceNumber: 1n,
      coolingDown: false,
    });
    assert.equal(
      text,
      'IP 10.65.79.2 is in use\nHandle ID: k8s-pod-network.abc\nActive Owner Attributes:\n  namespace: default\n  node: node-1\n  pod: nginx\n',
    );
    assert.equal(renderAllocation('10.0.0.1', undefined), '10.0.0.1 is not assigned\n');
  });
});

describe('get tables (Go tabwriter)', () => {
  it('renders the system-test fixture table, ps and wide', () => {
    assert.equal(
      renderObjects([toList('IPPool', [fixturePool], '9')], { type: 'ps' }),
      golden('get-ippool-ps.txt'),
    );
    assert.equal(renderObjects([fixturePool], { type: 'wide' }), golden('get-ippool-wide.txt'));
  });
  it('pads narrow columns to the minimum width 5 plus trailing spaces', () => {
    assert.equal(renderTabTable(['A', 'BB'], [['x', 'y']]), 'A    BB   \nx    y    \n\n');
  });
  it('renders custom columns and rejects unknown headings', () => {
    assert.equal(
      renderObjects([fixturePool], parseOutputFormat('custom-columns=NAME,NAT')),
      'NAME           NAT     \nippool-name1   false   \n\n',
    );
    assert.throws(
      () => renderObjects([fixturePool], parseOutputFormat('custom-columns=FOO')),
      /unknown heading FOO, valid values are: /,
    );
  });
  it('rejects bad output formats with calicoctl wording', () => {
    assert.throws(() => parseOutputFormat('xml'), /unrecognized output format 'xml'/);
    assert.throws(
      () => parseOutputFormat('custom-columns='),
      /need to specify at least one column/,
    );
  });
});

describe('go-template output', () => {
  const list = toList('IPPool', [fixturePool], '9');
  const run = (template: string, objects: Parameters<typeof renderObjects>[0] = [list]): string =>
    renderObjects(objects, parseOutputFormat(`go-template=${template}`));

  it('renders the name/cidr example of surfaces.md §1.6, with no trailing newline added', () => {
    assert.equal(
      run('{{range .}}{{range .Items}}{{.ObjectMeta.Name}} {{.Spec.CIDR}}\n{{end}}{{end}}'),
      'ippool-name1 10.0.1.0/24\n',
    );
    assert.equal(run('{{range .}}{{.Kind}}{{end}}'), 'IPPoolList');
  });
  it('resolves Go struct names, zero values, maps and calicoctl functions', () => {
    const labelled = { ...fixturePool, metadata: { name: 'p', labels: { b: '2', a: '1' } } };
    assert.equal(
      run(
        '{{range .}}{{.Spec.NATOutgoing}} {{.Spec.Disabled}} {{.Spec.IPIPMode}} {{.ObjectMeta.Labels}} ' +
          '{{join .ObjectMeta.Labels ","}} {{.ObjectMeta.Labels.a}} {{.ObjectMeta.Labels.zz}} ' +
          '{{config "asnumber"}}{{end}}',
        [labelled],
      ),
      'false false Always map[a:1 b:2] a=1,b=2 1 <no value> 64512',
    );
    assert.equal(
      run(
        '{{range $i, $p := .}}{{if .Spec.Disabled}}off{{else}}{{$i}}:{{$p.ObjectMeta.Name}}{{end}}{{end}}',
        [labelled],
      ),
      '0:p',
    );
    assert.equal(run('{{- range . -}} {{ len .Items | printf "%d pools" }} {{- end }}'), '1 pools');
  });
  it("rejects bad templates as calicoctl's -o parsing does", () => {
    assert.throws(() => parseOutputFormat('go-template='), /need to specify a template$/);
    assert.throws(() => parseOutputFormat('go-template-file='), /need to specify a template file/);
    assert.throws(() => parseOutputFormat('go-template={{range .}}'), /template: unexpected EOF/);
    assert.throws(
      () => parseOutputFormat('go-template-file=/no/such/file'),
      /open \/no\/such\/file: no such file or directory/,
    );
  });
  it('fails on a field Go would not find, as text/template does, instead of printing nothing', () => {
    assert.throws(
      () => run('{{range .}}{{.Bogus}}{{end}}'),
      /^CidrpoolError: template: can't evaluate field Bogus in type IPPoolList$/,
    );
    assert.throws(
      () => run('{{range .}}{{range .Items}}{{.metadata.name}}{{end}}{{end}}'),
      /can't evaluate field metadata in type IPPool \(use Go names: \.ObjectMeta\.Name\)/,
    );
    assert.equal(
      run(
        '{{range .}}{{range .Items}}{{.ObjectMeta.Namespace}}|{{.Spec.DisableBGPExport}}{{end}}{{end}}',
      ),
      '|false',
    );
  });
  it('prints omitted Go slices as [] and nil pointers as <nil>', () => {
    const node: Node = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'n' },
      spec: {},
    };
    assert.equal(
      run('{{range .}}{{.Spec.BGP}}|{{.Spec.Addresses}}|{{len .Spec.OrchRefs}}{{end}}', [node]),
      '<nil>|[]|0',
    );
  });
  it('prints a creationTimestamp as Go prints a metav1.Time', () => {
    const stamped = {
      ...fixturePool,
      metadata: { name: 'p', creationTimestamp: '2026-01-02T03:04:05Z' },
    };
    assert.equal(
      run('{{range .}}{{.ObjectMeta.CreationTimestamp}}{{end}}', [stamped]),
      '2026-01-02 03:04:05 +0000 UTC',
    );
  });
});

describe('yaml and json', () => {
  it('sorts keys like go-yaml v2 and quotes numeric-looking strings', () => {
    const text = renderYaml(toList('IPPool', [fixturePool], '12'));
    assert.equal(
      text,
      [
        'apiVersion: projectcalico.org/v3',
        'items:',
        '- apiVersion: projectcalico.org/v3',
        '  kind: IPPool',
        '  metadata:',
        '    name: ippool-name1',
        '    resourceVersion: "7"',
        '  spec:',
        '    assignmentMode: Automatic',
        '    cidr: 10.0.1.0/24',
        '    ipipMode: Always',
        '    natOutgoing: false',
        "    nodeSelector: foo == 'bar'",
        'kind: IPPoolList',
        'metadata:',
        '  resourceVersion: "12"',
        '',
      ].join('\n'),
    );
    assert.equal(renderYaml(toList('IPPool', [], '3')).includes('items: []'), true);
  });
  it('picks the scalar style go-yaml v2 picks', () => {
    const cases: [string, string][] = [
      ['all()', 'plain'],
      ['!all()', 'single'],
      ["has(zone) && zone in {'a','b'}", 'plain'],
      ['x: y', 'single'],
      [':x', 'plain'],
      ['-', 'single'],
      ['@x', 'single'],
      ['  lead', 'single'],
      ['tab\there', 'double'],
      ['yes', 'double'],
      ['0o17', 'double'],
      ['1_000', 'double'],
      ['1e', 'plain'],
      ['2026-01-01', 'double'],
      ['2026-13-01', 'plain'],
      ['1:20', 'double'],
      ['', 'double'],
      ['multi\nline', 'literal'],
      ['trailing \nspace', 'double'],
    ];
    for (const [value, style] of cases) assert.equal(goScalarStyle(value, false), style, value);
    assert.equal(goScalarStyle('n', true), 'double');
    assert.equal(goScalarStyle('a\nb', true), 'double');
    assert.equal(
      renderYaml({ s: '!all()', t: "it's", u: 'a: b' }),
      "s: '!all()'\nt: it's\nu: 'a: b'\n",
    );
  });
  it('folds long strings past column 80 as go-yaml does', () => {
    const message =
      'Failed to pull image "foo": rpc error: code = Unknown desc = Error response from daemon: ' +
      "pull access denied for foo, repository does not exist or may require 'docker login': " +
      'denied: requested access to the resource is denied';
    assert.equal(
      renderYaml({ status: { message } }),
      [
        'status:',
        `  message: 'Failed to pull image "foo": rpc error: code = Unknown desc = Error response`,
        '    from daemon: pull access denied for foo, repository does not exist or may require',
        "    ''docker login'': denied: requested access to the resource is denied'",
        '',
      ].join('\n'),
    );
    const selector =
      "has(kubernetes.io/hostname) && kubernetes.io/hostname in {'node-1', 'node-2', 'node-3'}";
    assert.equal(
      renderYaml({ items: [{ nodeSelector: selector }] }),
      [
        'items:',
        "- nodeSelector: has(kubernetes.io/hostname) && kubernetes.io/hostname in {'node-1',",
        "    'node-2', 'node-3'}",
        '',
      ].join('\n'),
    );
  });
  it('orders numbers inside keys numerically', () => {
    const keys = ['a10', 'a9', 'B', 'a', '_x'].sort(compareYamlKeys);
    assert.deepEqual(keys, ['_x', 'B', 'a', 'a9', 'a10']);
  });
  it('prints JSON in struct order without a trailing newline, escaping & like Go', () => {
    const text = renderJson({
      spec: { nodeSelector: 'a && b', cidr: '10.0.0.0/8' },
      metadata: { name: 'p' },
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
    });
    assert.ok(text.startsWith('{\n  "kind": "IPPool",\n  "apiVersion"'));
    assert.ok(text.includes('"cidr": "10.0.0.0/8",\n    "nodeSelector": "a \\u0026\\u0026 b"'));
    assert.ok(!text.endsWith('\n'));
  });
  it('prints labels and annotations in key order, as encoding/json prints a Go map', () => {
    const text = renderJson({
      kind: 'Node',
      apiVersion: 'projectcalico.org/v3',
      metadata: {
        name: 'n',
        labels: { a10: 'x', a9: 'y', B: '1', '1x': 'z' },
        annotations: { 'z.io/b': '2', 'a.io/c': '1' },
      },
      spec: {},
    });
    const keys = [...text.matchAll(/^ {6}"([^"]+)":/gm)].map((m) => m[1]);
    assert.deepEqual(keys, ['1x', 'B', 'a10', 'a9', 'a.io/c', 'z.io/b']);
  });
});

describe('batch messages (surfaces.md §1.5)', () => {
  const verb = { present: 'create', past: 'created' };
  it('reports full success', () => {
    assert.deepEqual(
      reportBatch(verb, [{ kind: 'IPPool' }, { kind: 'IPPool' }], 'hit error').stdout,
      ["Successfully created 2 'IPPool' resource(s)"],
    );
    assert.deepEqual(
      reportBatch(verb, [{ kind: 'IPPool' }, { kind: 'Node' }], 'hit error').stdout,
      ['Successfully created 2 resource(s)'],
    );
  });
  it('reports total failure by count and kind mix', () => {
    assert.deepEqual(reportBatch(verb, [{ kind: 'IPPool', error: 'e1' }], 'hit error').stderr, [
      "failed to create 'IPPool' resource: [e1]",
    ]);
    assert.deepEqual(
      reportBatch(
        verb,
        [
          { kind: 'IPPool', error: 'e1' },
          { kind: 'IPPool', error: 'e2' },
        ],
        'hit error',
      ).stderr,
      ["failed to create any 'IPPool' resources: [e1 e2]"],
    );
    assert.deepEqual(
      reportBatch(
        verb,
        [
          { kind: 'IPPool', error: 'e1' },
          { kind: 'Node', error: 'e2' },
        ],
        'hit error',
      ).stderr,
      ['failed to create any resources: [e1 e2]'],
    );
  });
  it('prints the partial-success line only when successes outnumber failures', () => {
    const more = reportBatch(
      verb,
      [{ kind: 'IPPool' }, { kind: 'IPPool' }, { kind: 'IPPool', error: 'e' }],
      'hit error',
    );
    assert.deepEqual(more.stdout, [
      "Partial success: created the first 2 out of 3 'IPPool' resources:",
    ]);
    assert.deepEqual(more.stderr, ['hit error: [e]']);
    const fewer = reportBatch(
      verb,
      [{ kind: 'IPPool' }, { kind: 'IPPool', error: 'a' }, { kind: 'IPPool', error: 'b' }],
      'hit error(s)',
    );
    assert.deepEqual(fewer.stdout, []);
    assert.deepEqual(fewer.stderr, ['hit error(s): [a b]']);
  });
  it('keeps the replace and delete quirks', () => {
    const replaced = reportReplace([
      { kind: 'IPPool', error: 'resource does not exist: IPPool(x)' },
    ]);
    assert.deepEqual(replaced.stdout, [
      "Partial success: replaced the first 1 out of 1 'IPPool' resources:",
    ]);
    assert.deepEqual(replaced.stderr, ['hit error: resource does not exist: IPPool(x)']);
    const deleted = reportDelete([{ kind: 'IPPool' }, { kind: 'IPPool', error: 'gone' }]);
    assert.deepEqual(deleted.stdout, ["Successfully deleted 1 'IPPool' resource(s)"]);
    assert.deepEqual(deleted.stderr, ["Failed to delete 'IPPool' resource: gone", '']);
    const two = reportDelete([
      { kind: 'IPPool', error: 'a' },
      { kind: 'IPPool', error: 'b' },
    ]);
    assert.deepEqual(two.stderr, [
      "Failed to delete 'IPPool' resource: a",
      "Failed to delete 'IPPool' resource: b",
      '',
    ]);
    const mixed = reportDelete([
      { kind: 'IPPool', error: 'a' },
      { kind: 'IPReservation', error: 'b' },
    ]);
    assert.deepEqual(mixed.stderr, [
      'Failed to delete resource: a',
      'Failed to delete resource: b',
      '',
    ]);
  });
});

describe('kinds and namespaces', () => {
  it('resolves aliases in any case', () => {
    assert.equal(resolveKind('IPPools'), 'IPPool');
    assert.equal(resolveKind('WeP'), 'WorkloadEndpoint');
    assert.equal(resolveKind('ipamconfig'), 'IPAMConfiguration');
    assert.throws(() => resolveKind('somekind'), /resource type 'somekind' is not supported/);
  });
  it('applies the namespace rules of §1.4', () => {
    assert.equal(resolveNamespace('WorkloadEndpoint', {}), 'default');
    assert.equal(resolveNamespace('WorkloadEndpoint', { namespace: 'ns1' }), 'ns1');
    assert.equal(resolveNamespace('WorkloadEndpoint', { allNamespaces: true }), undefined);
    assert.throws(
      () => resolveNamespace('WorkloadEndpoint', { namespace: 'a', allNamespaces: true }),
      /cannot use both/,
    );
    assert.throws(
      () => resolveNamespace('WorkloadEndpoint', { namespace: 'a' }, 'b'),
      /resource namespace does not match client namespace. b != a/,
    );
    assert.throws(
      () => resolveNamespace('IPPool', { namespace: 'a' }),
      /^CidrpoolError: IPPool is not namespaced$/,
    );
    assert.throws(
      () => resolveNamespace('IPPool', {}, 'x'),
      /namespace should not be specified for a non-namespaced resource. IPPool is not a namespaced resource/,
    );
  });
});
