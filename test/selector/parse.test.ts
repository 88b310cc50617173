import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  getSelectorTree,
  parseSelector,
  tryParseSelector,
  validateSelectorText,
} from '../../src/selector/index.js';

const canonical = (text: string): string => parseSelector(text).toString();

describe('selector canonical form (surfaces.md §4.4)', () => {
  const table: [string, string][] = [
    ['', 'all()'],
    ['! (has( b)||! has(a ))', '!(has(b) || !has(a))'],
    ['a in {"z","z","x"}', 'a in {"x", "z"}'],
    [`a startswith '"'`, `a starts with '"'`],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => {
      assert.equal(canonical(input), expected);
    });
  }

  it('prints every operator with single spaces', () => {
    assert.equal(canonical('a=="b"'), 'a == "b"');
    assert.equal(canonical('a!="b"'), 'a != "b"');
    assert.equal(canonical('a contains"b"'), 'a contains "b"');
    assert.equal(canonical('a starts  with "b"'), 'a starts with "b"');
    assert.equal(canonical('a ends\twith "b"'), 'a ends with "b"');
    assert.equal(canonical('a endswith "b"'), 'a ends with "b"');
    assert.equal(canonical('a not in{"y","x",}'), 'a not in {"x", "y"}');
    assert.equal(canonical('a notin {}'), 'a not in {}');
    assert.equal(canonical('a in{}'), 'a in {}');
    assert.equal(canonical('has(\ta\t)'), 'has(a)');
    assert.equal(canonical('all( )'), 'all()');
    assert.equal(canonical('global(  )'), 'global()');
  });

  it('quotes with " unless the value holds ", keeping the other quote inside', () => {
    assert.equal(canonical(`a == 'x'`), 'a == "x"');
    assert.equal(canonical(`a == "it's"`), `a == "it's"`);
    assert.equal(canonical(`a == 'say "hi"'`), `a == 'say "hi"'`);
    assert.equal(canonical(`a in {'"', "'"}`), `a in {'"', "'"}`);
    assert.equal(canonical('a == ""'), 'a == ""');
  });

  it('wraps every && and || group in parentheses and keeps the precedence', () => {
    assert.equal(
      canonical('a == "1" && b == "2" || c == "3"'),
      '((a == "1" && b == "2") || c == "3")',
    );
    assert.equal(
      canonical('a == "1" || b == "2" && c == "3"'),
      '(a == "1" || (b == "2" && c == "3"))',
    );
    assert.equal(canonical('((has(a)))'), 'has(a)');
    assert.equal(canonical('has(a) && has(b) && has(c)'), '(has(a) && has(b) && has(c))');
    assert.equal(canonical('(has(a) && has(b)) && has(c)'), '((has(a) && has(b)) && has(c))');
  });

  it('binds ! tightest and cancels repeated !s in pairs', () => {
    assert.equal(canonical('!has(a) && has(b)'), '(!has(a) && has(b))');
    assert.equal(canonical('!!has(a)'), 'has(a)');
    assert.equal(canonical('!!!has(a)'), '!has(a)');
    assert.equal(canonical('!(!has(a))'), 'has(a)');
    assert.equal(canonical('!(!(has(a) || has(b)))'), '(has(a) || has(b))');
    assert.equal(canonical('! ! (has(a) || has(b))'), '(has(a) || has(b))');
    assert.equal(canonical('!a == "v"'), '!a == "v"');
  });

  it('sorts set members by UTF-8 bytes, like Go', () => {
    // U+FF5E sorts before U+1F600 in UTF-8 byte order, after it in UTF-16 code units.
    assert.equal(
      canonical('a in {"\u{1F600}", "\uFF5E", "B", "a"}'),
      'a in {"B", "a", "\uFF5E", "\u{1F600}"}',
    );
  });

  it('whitespace-only is all(); only space and tab count as whitespace', () => {
    assert.equal(canonical(' \t '), 'all()');
    assert.equal(canonical('\thas(a)\t'), 'has(a)');
    assert.equal(tryParseSelector('\n'), undefined);
    assert.equal(tryParseSelector('has(a)\r\n'), undefined);
    assert.equal(tryParseSelector('\u00a0has(a)'), undefined);
  });

  it('keeps source as given and the tree reachable', () => {
    const sel = parseSelector(' has( a ) ');
    assert.equal(sel.source, ' has( a ) ');
    assert.deepEqual(getSelectorTree(sel), { kind: 'has', label: 'a' });
    assert.deepEqual(getSelectorTree({ source: 'a in {"y","x"}', matches: () => true }), {
      kind: 'in',
      label: 'a',
      values: ['x', 'y'],
    });
  });

  it('strings have no escapes and may span any character but their own quote', () => {
    assert.deepEqual(getSelectorTree(parseSelector('a == "x\\"')), {
      kind: 'eq',
      label: 'a',
      value: 'x\\',
    });
    assert.equal(parseSelector('a == "line\nbreak"').matches({ a: 'line\nbreak' }), true);
  });
});

describe('selector labels and keywords', () => {
  it('accepts labels of [A-Za-z0-9_./-] up to 512 characters', () => {
    const longest = 'a'.repeat(512);
    assert.equal(canonical(`${longest} == "x"`), `${longest} == "x"`);
    assert.equal(canonical(`has(${longest})`), `has(${longest})`);
    assert.equal(canonical('kubernetes.io/hostname == "n1"'), 'kubernetes.io/hostname == "n1"');
    assert.equal(canonical('A_b-9.c/d in {}'), 'A_b-9.c/d in {}');
    assert.equal(validateSelectorText(`${'b'.repeat(513)} == "x"`)?.column, 1);
    assert.equal(validateSelectorText(`has(${'b'.repeat(513)})`)?.column, 5);
  });

  it('uses has, all and global as label names when no ( follows directly', () => {
    assert.equal(canonical('all == "x"'), 'all == "x"');
    assert.equal(canonical('has != "x"'), 'has != "x"');
    assert.equal(canonical('global in {"x"}'), 'global in {"x"}');
    assert.equal(canonical('has(has) && has(all)'), '(has(has) && has(all))');
    assert.equal(parseSelector('all == "x"').matches({}), false);
    assert.equal(parseSelector('all == "x"').matches({ all: 'x' }), true);
    // With a space before "(" the keyword is a label, and a label needs an operator.
    assert.match(
      validateSelectorText('all ()')?.message ?? '',
      /^expected operator after label "all"/,
    );
    assert.match(
      validateSelectorText('has (a)')?.message ?? '',
      /^expected operator after label "has"/,
    );
  });

  it('recognises word operators only directly after a label', () => {
    assert.equal(canonical('in in {"in"}'), 'in in {"in"}');
    assert.equal(canonical('contains contains "contains"'), 'contains contains "contains"');
    assert.equal(canonical('not not in {}'), 'not not in {}');
    assert.equal(canonical('starts starts with "x"'), 'starts starts with "x"');
    assert.equal(canonical('a == "x" && in == "y"'), '(a == "x" && in == "y")');
  });

  it('needs a word boundary after a word operator', () => {
    for (const text of [
      'a inx {}',
      'a containsx "b"',
      'a starts withx "b"',
      'a notinx {}',
      'a in-x {}',
    ]) {
      assert.equal(
        validateSelectorText(text)?.message.startsWith('expected operator after label "a"'),
        true,
        text,
      );
    }
    // A quote, a brace, a tab or the end is a boundary.
    assert.equal(canonical('a contains"x"'), 'a contains "x"');
    assert.equal(canonical('a in{"x"}'), 'a in {"x"}');
    assert.equal(canonical('a startswith\t"x"'), 'a starts with "x"');
    assert.match(validateSelectorText('a in')?.message ?? '', /^expected set literal/);
  });

  it('allows any run of spaces and tabs, even none, inside two-word operators', () => {
    for (const op of ['startswith', 'starts with', 'starts \t with']) {
      assert.equal(canonical(`a ${op} "x"`), 'a starts with "x"');
    }
    for (const op of ['notin', 'not in', 'not\t\tin']) {
      assert.equal(canonical(`a ${op} {"x"}`), 'a not in {"x"}');
    }
  });
});
