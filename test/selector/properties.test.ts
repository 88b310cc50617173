import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCidrpoolError } from '../../src/errors/index.js';
import {
  evaluateSelectorNode,
  getSelectorTree,
  parseSelector,
  printSelectorNode,
  validateSelectorText,
  type SelectorNode,
} from '../../src/selector/index.js';

// fast-check prints the seed and path of a failing run; FC_SEED replays it.
const options = (numRuns: number): fc.Parameters<unknown> =>
  process.env['FC_SEED'] ? { numRuns, seed: Number(process.env['FC_SEED']) } : { numRuns };

// A small pool of labels so that generated label maps often hit the selector's labels; it
// includes names that are keywords or word operators elsewhere in the grammar.
const LABEL_POOL = ['a', 'b', 'has', 'all', 'global', 'in', 'not', 'contains', 'kubernetes.io/os'];
const labelArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LABEL_POOL) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_./-]{1,10}$/) },
  { weight: 1, arbitrary: fc.constant('L'.repeat(512)) },
);

const VALUE_POOL = ['', 'x', 'xy', 'yx', '"q"', "it's", ' ', 'a b'];
const valueCharArb = fc.constantFrom(
  ...['x', 'y', '"', "'", ' ', '\t', '\n', '{', '}', '(', ')', ',', '&', '|', '=', '!', 'é'],
  ...['\u{1F600}', '\uFF5E'],
);
// A literal cannot hold both quote characters: there are no escapes.
const valueArb = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...VALUE_POOL) },
    { weight: 2, arbitrary: fc.string({ unit: valueCharArb, maxLength: 6 }) },
  )
  .filter((v) => !(v.includes('"') && v.includes("'")));

const { node: nodeArb } = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<SelectorNode>({ kind: 'all' }),
    fc.constant<SelectorNode>({ kind: 'global' }),
    labelArb.map((label): SelectorNode => ({ kind: 'has', label })),
    fc
      .record({
        kind: fc.constantFrom('eq', 'ne', 'contains', 'startsWith', 'endsWith' as const),
        label: labelArb,
        value: valueArb,
      })
      .map((n): SelectorNode => n),
    fc
      .record({
        kind: fc.constantFrom('in', 'notIn' as const),
        label: labelArb,
        values: fc.array(valueArb, { maxLength: 4 }),
      })
      .map((n): SelectorNode => n),
    // The parser never builds !!x (it cancels pairs, also through parentheses), so neither does
    // the generator.
    tie('node').map((n): SelectorNode =>
      n.kind === 'not' ? n.operand : { kind: 'not', operand: n },
    ),
    fc
      .record({
        kind: fc.constantFrom('and', 'or' as const),
        operands: fc.array(tie('node'), { minLength: 2, maxLength: 4 }),
      })
      .map((n): SelectorNode => n),
  ),
}));

const labelsArb = fc.dictionary(
  fc.oneof(fc.constantFrom(...LABEL_POOL), labelArb),
  fc.oneof(fc.constantFrom(...VALUE_POOL), valueArb),
  { maxKeys: 5 },
);

/** The tree the parser gives for a generated tree: set members sorted and de-duplicated. */
function normalize(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'in':
    case 'notIn':
      return { ...node, values: [...new Set(node.values)].sort(byCodePoint) };
    case 'not':
      return { kind: 'not', operand: normalize(node.operand) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map(normalize) };
    default:
      // fc.record builds null-prototype objects; the parser builds plain ones.
      return { ...node };
  }
}

function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0);
  const y = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return x.length - y.length;
}

type Gen = fc.GeneratorValue;

/** Writes a tree the way a person might: random spacing, quotes, spellings, parentheses. */
function spell(g: Gen, node: SelectorNode): string {
  const ws = (): string => g(fc.constantFrom, '', ' ', '\t', '  ', ' \t');
  const ws1 = (): string => g(fc.constantFrom, ' ', '\t', ' \t ');
  const quote = (v: string): string => {
    const q = v.includes('"') ? "'" : v.includes("'") ? '"' : g(fc.constantFrom, '"', "'");
    return `${q}${v}${q}`;
  };
  const group = (inner: string): string => `(${ws()}${inner}${ws()})`;
  let text: string;
  switch (node.kind) {
    case 'all':
    case 'global':
      text = `${node.kind}(${ws()})`;
      break;
    case 'has':
      text = `has(${ws()}${node.label}${ws()})`;
      break;
    case 'not': {
      const operand = spell(g, node.operand);
      const needsGroup = node.operand.kind === 'and' || node.operand.kind === 'or';
      text = `!${ws()}${needsGroup ? group(operand) : operand}`;
      break;
    }
    case 'and':
    case 'or': {
      const op = node.kind === 'and' ? '&&' : '||';
      text = node.operands
        .map((child) => {
          const inner = spell(g, child);
          return child.kind === 'and' || child.kind === 'or' ? group(inner) : inner;
        })
        .join(`${ws()}${op}${ws()}`);
      break;
    }
    case 'in':
    case 'notIn': {
      const op = node.kind === 'in' ? 'in' : g(fc.constantFrom, 'not in', 'notin', 'not\tin');
      const members = g(fc.shuffledSubarray, [...node.values, ...node.values], {
        minLength: node.values.length * 2,
      });
      const trailing = members.length > 0 && g(fc.boolean) ? ',' : '';
      const list = members.map((m) => `${ws()}${quote(m)}${ws()}`).join(',');
      text = `${node.label}${ws1()}${op}${ws()}{${list}${trailing}${ws()}}`;
      break;
    }
    default: {
      const op = {
        eq: '==',
        ne: '!=',
        contains: 'contains',
        startsWith: g(fc.constantFrom, 'starts with', 'startswith', 'starts  with'),
        endsWith: g(fc.constantFrom, 'ends with', 'endswith', 'ends\twith'),
      }[node.kind];
      const before = op.startsWith('=') || op.startsWith('!') ? ws() : ws1();
      text = `${node.label}${before}${op}${ws()}${quote(node.value)}`;
    }
  }
  // Redundant parentheses and pairs of ! change nothing.
  if (g(fc.integer, { min: 0, max: 9 }) === 0) text = group(text);
  if (g(fc.integer, { min: 0, max: 9 }) === 0) text = `!!${ws()}${text}`;
  return text;
}

describe('selector properties', () => {
  it('print -> parse -> print is the identity, and parse gives back the tree', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        const printed = printSelectorNode(node);
        const selector = parseSelector(printed);
        assert.equal(selector.toString(), printed);
        assert.deepEqual(getSelectorTree(selector), normalize(node));
      }),
      options(500),
    );
  });

  it('the canonical form matches exactly the label maps the tree matches', () => {
    fc.assert(
      fc.property(nodeArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (node, maps) => {
        const selector = parseSelector(printSelectorNode(node));
        for (const labels of maps) {
          assert.equal(selector.matches(labels), evaluateSelectorNode(node, labels));
        }
      }),
      options(500),
    );
  });

  it('!(s) is the negation of s', () => {
    fc.assert(
      fc.property(nodeArb, fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (node, maps) => {
        const text = printSelectorNode(node);
        const selector = parseSelector(text);
        const negated = parseSelector(`!(${text})`);
        for (const labels of maps) assert.equal(negated.matches(labels), !selector.matches(labels));
      }),
      options(500),
    );
  });

  it('any spelling of a tree (spacing, quotes, operator forms, parentheses) has its canonical form', () => {
    fc.assert(
      fc.property(nodeArb, fc.gen(), (node, g) => {
        const text = `${g(fc.constantFrom, '', ' ', '\t')}${spell(g, node)}${g(fc.constantFrom, '', ' ')}`;
        assert.equal(parseSelector(text).toString(), printSelectorNode(node), text);
      }),
      options(500),
    );
  });

  it('random text either parses to a fixpoint or fails with SEL_SYNTAX at a column inside it', () => {
    const unit = fc.constantFrom(
      ...['a', 'b', 'in', 'not', 'has(', 'all(', 'global(', 'contains', 'starts', 'with', '"x"'],
      ...[
        "'y'",
        ' ',
        '\t',
        '(',
        ')',
        '{',
        '}',
        ',',
        '=',
        '==',
        '!',
        '!=',
        '&&',
        '||',
        '&',
        '"',
        "'",
      ],
      ...['\n', ':', 'é'],
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (parts) => checkAnyText(parts.join(''))),
      options(2000),
    );
  });

  it('a valid spelling with one character changed parses to a fixpoint or fails with a column', () => {
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.integer({ min: 0, max: 1 }),
      insert: fc.constantFrom(
        '',
        ' ',
        '\n',
        '=',
        '!',
        '&',
        '|',
        '(',
        ')',
        '{',
        '}',
        ',',
        '"',
        "'",
        'x',
      ),
    });
    fc.assert(
      fc.property(nodeArb, fc.gen(), edit, (node, g, { at, remove, insert }) => {
        const text = spell(g, node);
        const pos = at % (text.length + 1);
        checkAnyText(text.slice(0, pos) + insert + text.slice(pos + remove));
      }),
      options(1000),
    );
  });
});

/** Either the text parses (and its canonical form is a fixpoint), or it fails consistently. */
function checkAnyText(text: string): void {
  const issue = validateSelectorText(text);
  let canonical: string;
  try {
    canonical = parseSelector(text).toString();
  } catch (error) {
    assert.ok(isCidrpoolError(error, 'SEL_SYNTAX'), String(error));
    assert.ok(issue, 'validateSelectorText disagrees with parseSelector');
    assert.equal(error.position?.column, issue.column);
    assert.ok(issue.column >= 1 && issue.column <= [...text].length + 1, `column ${issue.column}`);
    return;
  }
  assert.equal(issue, undefined);
  assert.equal(parseSelector(canonical).toString(), canonical);
}
