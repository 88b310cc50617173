import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CidrpoolError, isCidrpoolError } from '../../src/errors/index.js';
import { parseSelector, tryParseSelector, validateSelectorText } from '../../src/selector/index.js';

/** Checks every way a syntax error surfaces: the thrown error, the issue, tryParse. */
function assertSyntaxError(text: string, reason: string, column: number, found?: RegExp): void {
  assert.throws(
    () => parseSelector(text),
    (error: unknown) => {
      assert.ok(isCidrpoolError(error, 'SEL_SYNTAX'), `not SEL_SYNTAX: ${String(error)}`);
      const err = error as CidrpoolError;
      assert.deepEqual(err.position, { line: 1, column });
      assert.ok(
        err.message.startsWith(
          `invalid selector ${JSON.stringify(text)} at column ${column}: ${reason}`,
        ),
        err.message,
      );
      const [line, caret] = (err.excerpt ?? '').split('\n');
      assert.equal([...(line ?? '')].length, [...text].length);
      assert.equal(caret?.length, column, `caret under column ${column}: ${err.excerpt}`);
      assert.ok(caret?.endsWith('^'));
      assert.equal(err.details['reason'], reason);
      return true;
    },
  );
  const issue = validateSelectorText(text);
  assert.ok(issue, 'validateSelectorText found no issue');
  assert.equal(issue.column, column);
  assert.ok(issue.message.startsWith(reason), issue.message);
  if (found) assert.match(issue.message, found);
  assert.equal(tryParseSelector(text), undefined);
}

describe('selector tokenizer errors (surfaces.md §4.1)', () => {
  it('expected == for a single =', () => {
    assertSyntaxError('a = "b"', 'expected ==', 3, /write ==/);
    assertSyntaxError('a =', 'expected ==', 3);
    assertSyntaxError('a =!"b"', 'expected ==', 3);
  });

  it('expected && and expected || for a lone & or |', () => {
    assertSyntaxError('has(a) & has(b)', 'expected &&', 8);
    assertSyntaxError('has(a) | has(b)', 'expected ||', 8);
    assertSyntaxError('has(a) &', 'expected &&', 8);
  });

  it('unterminated string, in both quote styles, at the opening quote', () => {
    assertSyntaxError('a == "b', 'unterminated string', 6, /add the closing "/);
    assertSyntaxError("a == 'b", 'unterminated string', 6, /add the closing '/);
    assertSyntaxError(`a == 'b"`, 'unterminated string', 6);
    assertSyntaxError('a in {"x", "y}', 'unterminated string', 12);
  });

  it("no closing ')' after has(, all( and global(", () => {
    assertSyntaxError('has(a', "no closing ')' after has(", 6, /write has\(a\)/);
    assertSyntaxError('has(a b)', "no closing ')' after has(", 7, /found "b"/);
    assertSyntaxError('all(', "no closing ')' after all(", 5);
    assertSyntaxError('all(x)', "no closing ')' after all(", 5);
    assertSyntaxError('global( x)', "no closing ')' after global(", 9);
  });

  it('expected identifier where a label should start', () => {
    assertSyntaxError('has()', 'expected identifier', 5);
    assertSyntaxError('has( )', 'expected identifier', 6);
    assertSyntaxError('a == "b" && :x == "c"', 'expected identifier', 13, /":"/);
    assertSyntaxError('a == "b"\n', 'expected identifier', 9, /line break/);
    assertSyntaxError('\nhas(a)', 'expected identifier', 1, /line break/);
    assertSyntaxError('#', 'expected identifier', 1);
    assertSyntaxError('a == "b" && é == "c"', 'expected identifier', 13);
  });

  it('label too long: <label>, for 513 characters', () => {
    const label = 'x'.repeat(513);
    assertSyntaxError(`${label} == "a"`, `label too long: ${label}`, 1, /at most 512/);
    assertSyntaxError(`has(${label})`, `label too long: ${label}`, 5);
    assertSyntaxError(`a == "b" || ${label} == "a"`, `label too long: ${label}`, 13);
  });

  it('expected operator after label "<label>"', () => {
    assertSyntaxError('a b', 'expected operator after label "a"', 3, /found "b"/);
    assertSyntaxError('zone:x == "y"', 'expected operator after label "zone"', 5, /cannot appear/);
    assertSyntaxError('a containsx "b"', 'expected operator after label "a"', 3, /"containsx"/);
    assertSyntaxError('a starts "b"', 'expected operator after label "a"', 3);
    assertSyntaxError('a ends without "b"', 'expected operator after label "a"', 3);
    assertSyntaxError('a not "b"', 'expected operator after label "a"', 3);
    assertSyntaxError('a IN {}', 'expected operator after label "a"', 3);
    assertSyntaxError('a\nin {}', 'expected operator after label "a"', 2);
    // A punctuation token after a label fails the same way, in the parser.
    assertSyntaxError('a (', 'expected operator after label "a"', 3, /found "\("/);
    assertSyntaxError('a "b"', 'expected operator after label "a"', 3, /string "b"/);
    assertSyntaxError('a && has(b)', 'expected operator after label "a"', 3);
    assertSyntaxError('a ! "b"', 'expected operator after label "a"', 3);
  });

  it('reports a tokenizer error even after an earlier parser error, as Calico tokenises first', () => {
    assertSyntaxError(') a = "b"', 'expected ==', 5);
  });
});

describe('selector parser errors (surfaces.md §4.2)', () => {
  it('unexpected end of string looking for op', () => {
    assertSyntaxError('a', 'unexpected end of string looking for op', 2, /a == "x"/);
    assertSyntaxError('has(x) && kubernetes.io/os', 'unexpected end of string looking for op', 27);
  });

  it('expected )', () => {
    assertSyntaxError('(has(a)', 'expected )', 8, /end of the selector/);
    assertSyntaxError('(has(a) has(b))', 'expected )', 9, /has\(b\)/);
  });

  it('expected }', () => {
    assertSyntaxError('a in {"x"', 'expected }', 10);
    assertSyntaxError('a in {"x" "y"}', 'expected }', 11, /string "y"/);
    assertSyntaxError('a in {"x",,}', 'expected }', 11);
    assertSyntaxError('a in {x}', 'expected }', 7, /label "x"/);
    assertSyntaxError('a in {,}', 'expected }', 7);
  });

  it('expected string: the right-hand side must be a literal', () => {
    assertSyntaxError('a == b', 'expected string', 6, /quote the value: a == "b"/);
    assertSyntaxError('a != ', 'expected string', 6, /end of the selector/);
    assertSyntaxError('a contains {"x"}', 'expected string', 12);
    assertSyntaxError('a starts with b', 'expected string', 15, /a starts with "b"/);
    assertSyntaxError('a ends with (', 'expected string', 13);
  });

  it('expected set literal', () => {
    assertSyntaxError('a in "x"', 'expected set literal', 6, /string "x"/);
    assertSyntaxError('a not in', 'expected set literal', 9);
  });

  it('unexpected token: <tok>, printed like Calico', () => {
    assertSyntaxError('has(a) &&', 'unexpected token: TokEOF()', 10);
    assertSyntaxError('&& has(a)', 'unexpected token: TokAnd()', 1);
    assertSyntaxError('()', 'unexpected token: TokRParen()', 2);
    assertSyntaxError('!', 'unexpected token: TokEOF()', 2);
    assertSyntaxError('"x"', 'unexpected token: TokStringLiteral(x)', 1);
    assertSyntaxError('has(a) || {', 'unexpected token: TokLBrace()', 11);
  });

  it('unexpected content at end of selector [<tokens>]', () => {
    assertSyntaxError(
      'has(a) )',
      'unexpected content at end of selector [TokRParen() TokEOF()]',
      8,
      /without a matching/,
    );
    assertSyntaxError(
      'has(a) has(b)',
      'unexpected content at end of selector [TokHas(b) TokEOF()]',
      8,
      /&& or \|\|/,
    );
    assertSyntaxError(
      'a == "b" c == "d"',
      'unexpected content at end of selector [TokLabel(c) TokEq() TokStringLiteral(d) TokEOF()]',
      10,
    );
  });
});

describe('selector error columns', () => {
  it('counts columns in code points and keeps tabs in the caret line', () => {
    const issue = validateSelectorText('a == "\u{1F600}" =');
    assert.equal(issue?.column, 10);
    assert.equal(issue?.excerpt, 'a == "\u{1F600}" =\n         ^');
    const tabbed = validateSelectorText('a\t==\t"b"\t&');
    assert.equal(tabbed?.excerpt, 'a\t==\t"b"\t&\n \t  \t   \t^');
  });

  it('shows a line break inside a string on the same excerpt line', () => {
    const issue = validateSelectorText('a == "x\ny" =');
    assert.equal(issue?.column, 12);
    assert.equal(issue?.excerpt, 'a == "x\u21b5y" =\n           ^');
  });

  it('is silent for valid selectors', () => {
    assert.equal(validateSelectorText(''), undefined);
    assert.equal(validateSelectorText('has(a) && b in {"c"}'), undefined);
  });
});

describe('selector limits', () => {
  it('names a whole emoji as what was found', () => {
    assert.match(validateSelectorText('a \u{1F600}')?.message ?? '', /found "\u{1F600}"/u);
    assert.match(validateSelectorText('has(\u{1F600})')?.message ?? '', /found "\u{1F600}"/u);
  });

  it('accepts 1000 levels of parentheses and rejects deeper nesting with SEL_SYNTAX', () => {
    const nest = (depth: number): string => `${'('.repeat(depth)}has(a)${')'.repeat(depth)}`;
    assert.equal(parseSelector(nest(1000)).toString(), 'has(a)');
    assert.equal(parseSelector(`!${nest(1000)}`).matches({}), true);
    assertSyntaxError(nest(1001), 'selector nested too deeply', 1001);
    assertSyntaxError(`!(${nest(1000)})`, 'selector nested too deeply', 1002);
  });
});
