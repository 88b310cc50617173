import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSelector } from '../../src/selector/index.js';

const node = { zone: 'us-east-1a', rack: 'r1', 'kubernetes.io/os': 'linux' };

describe('selector evaluation (surfaces.md §4.5)', () => {
  const table: [string, boolean][] = [
    ['zone == "us-east-1a"', true],
    ['zone starts with "us-east"', true],
    ['rack in {"r1","r2"} && kubernetes.io/os == "linux"', true],
    ['has(gpu)', false],
    ['!has(gpu)', true],
    ['gpu != "true"', true],
    [`zone == 'us-west' || rack == "r1"`, true],
    ['!(zone == "us-east-1a")', false],
  ];
  for (const [text, expected] of table) {
    it(`${text} -> ${expected}`, () => {
      const selector = parseSelector(text);
      assert.equal(selector.matches(node), expected);
      // The canonical form means the same thing.
      assert.equal(parseSelector(selector.toString()).matches(node), expected);
    });
  }
});

describe('selector truth rules (surfaces.md §4.3)', () => {
  const present = { k: 'value' };
  const empty = { k: '' };
  const absent = { other: 'value' };
  const table: [string, boolean, boolean, boolean][] = [
    // selector, present k=value, k='' , k absent
    ['k == "value"', true, false, false],
    ['k == ""', false, true, false],
    ['k != "value"', false, true, true],
    ['k != ""', true, false, true],
    ['k in {"value", "x"}', true, false, false],
    ['k in {}', false, false, false],
    ['k not in {"value"}', false, true, true],
    ['k not in {}', true, true, true],
    ['has(k)', true, true, false],
    ['!has(k)', false, false, true],
    ['k contains "alu"', true, false, false],
    ['k contains ""', true, true, false],
    ['k starts with "val"', true, false, false],
    ['k starts with ""', true, true, false],
    ['k ends with "lue"', true, false, false],
    ['k ends with ""', true, true, false],
    ['all()', true, true, true],
    ['global()', true, true, true],
    ['', true, true, true],
    ['!all()', false, false, false],
    ['!k == "value"', false, true, true],
  ];
  for (const [text, whenValue, whenEmpty, whenAbsent] of table) {
    it(`${JSON.stringify(text)}: ${whenValue}/${whenEmpty}/${whenAbsent}`, () => {
      const selector = parseSelector(text);
      assert.equal(selector.matches(present), whenValue, 'k = "value"');
      assert.equal(selector.matches(empty), whenEmpty, 'k = ""');
      assert.equal(selector.matches(absent), whenAbsent, 'k absent');
    });
  }

  it('compares exactly and case-sensitively', () => {
    assert.equal(parseSelector('k == "Value"').matches(present), false);
    assert.equal(parseSelector('K == "value"').matches(present), false);
    assert.equal(parseSelector('k == "value "').matches(present), false);
    assert.equal(parseSelector('k contains "VAL"').matches(present), false);
  });

  it('sees only own labels, not Object.prototype members', () => {
    assert.equal(parseSelector('has(constructor)').matches({}), false);
    assert.equal(parseSelector('has(__proto__)').matches({}), false);
    assert.equal(parseSelector('toString != "x"').matches({}), true);
    const labels = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    assert.equal(parseSelector('__proto__ == "x"').matches(labels), true);
  });

  it('evaluates namespaceSelector against an empty label set (ipam-core.md §1.9)', () => {
    assert.equal(parseSelector('all()').matches({}), true);
    assert.equal(parseSelector('has(x)').matches({}), false);
  });
});
