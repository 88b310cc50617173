import { MAX_LABEL_LENGTH, OPERATOR_SPELLINGS, isLabelChar } from './ast.js';
import { SelectorSyntaxError } from './syntax-error.js';

/** Token kinds of Calico's selector tokenizer (libcalico-go/lib/selector/tokenizer). */
export type TokenKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'not'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'all'
  | 'has'
  | 'lparen'
  | 'rparen'
  | 'and'
  | 'or'
  | 'global'
  | 'eof';

/** One token; `offset` is the UTF-16 index of its first character in the source. */
export interface Token {
  readonly kind: TokenKind;
  /** The label name (label, has), the unquoted text (string), or '' for other kinds. */
  readonly value: string;
  readonly offset: number;
}

const PUNCTUATION: Readonly<Record<string, TokenKind>> = {
  '(': 'lparen',
  ')': 'rparen',
  '{': 'lbrace',
  '}': 'rbrace',
  ',': 'comma',
};

/** Operators that only count directly after a label; tried in Calico's order (`not in` before `in`). */
const WORD_OPERATORS: readonly { readonly words: readonly string[]; readonly kind: TokenKind }[] = [
  { words: ['contains'], kind: 'contains' },
  { words: ['starts', 'with'], kind: 'startsWith' },
  { words: ['ends', 'with'], kind: 'endsWith' },
  { words: ['not', 'in'], kind: 'notIn' },
  { words: ['in'], kind: 'in' },
];

const FUNCTIONS: readonly { readonly prefix: string; readonly kind: TokenKind }[] = [
  { prefix: 'has(', kind: 'has' },
  { prefix: 'all(', kind: 'all' },
  { prefix: 'global(', kind: 'global' },
];

/** Only space and tab separate tokens; a newline is an error, as in Calico. */
function skipWhitespace(text: string, at: number): number {
  while (at < text.length && (text[at] === ' ' || text[at] === '\t')) at++;
  return at;
}

/** The whole character (code point) at `at`, so an emoji is named whole in messages. */
function codePointAt(text: string, at: number): string | undefined {
  const cp = text.codePointAt(at);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

/** The end of the run of label characters starting at `at`. */
function scanLabel(text: string, at: number): number {
  while (at < text.length && isLabelChar(text[at])) at++;
  return at;
}

/** Reads a label at `at`; fails like Calico when it is empty or longer than 512 characters. */
function readLabel(text: string, at: number): string {
  const end = scanLabel(text, at);
  const label = text.slice(at, end);
  if (label.length > MAX_LABEL_LENGTH) {
    throw new SelectorSyntaxError(
      `label too long: ${label}`,
      at,
      `a label has at most ${MAX_LABEL_LENGTH} characters; this one has ${label.length}`,
    );
  }
  if (label.length === 0) {
    throw new SelectorSyntaxError(
      'expected identifier',
      at,
      describeBadCharacter(codePointAt(text, at)),
    );
  }
  return label;
}

function describeBadCharacter(ch: string | undefined): string | undefined {
  if (ch === undefined) return undefined;
  if (ch === '\n' || ch === '\r') {
    return 'found a line break; only spaces and tabs may separate the parts of a selector';
  }
  return `found ${JSON.stringify(ch)}, which cannot start a label (labels use A-Z a-z 0-9 _ . / -)`;
}

/**
 * Matches a word operator of one or more words at `at`: any run of spaces or tabs (even none)
 * between the words, and a word boundary (a non-label character or the end) after the last.
 * Returns the end offset, or undefined when it does not match.
 */
function matchWords(text: string, at: number, words: readonly string[]): number | undefined {
  let pos = at;
  for (const [i, word] of words.entries()) {
    if (i > 0) pos = skipWhitespace(text, pos);
    if (!text.startsWith(word, pos)) return undefined;
    pos += word.length;
  }
  return isLabelChar(text[pos]) ? undefined : pos;
}

/** Reads `<keyword>(` … `)` at `at` (the prefix is already matched); returns [token, end]. */
function readFunction(text: string, at: number, prefix: string, kind: TokenKind): [Token, number] {
  let pos = skipWhitespace(text, at + prefix.length);
  let value = '';
  if (kind === 'has') {
    value = readLabel(text, pos);
    pos = skipWhitespace(text, pos + value.length);
  }
  if (text[pos] !== ')') {
    const ch = codePointAt(text, pos);
    const found = ch === undefined ? 'the end of the selector' : JSON.stringify(ch);
    throw new SelectorSyntaxError(
      `no closing ')' after ${prefix}`,
      pos,
      `found ${found}; write ${kind === 'has' ? `has(${value})` : `${prefix})`}`,
    );
  }
  return [{ kind, value, offset: at }, pos + 1];
}

/**
 * Splits a selector into tokens, ending with an `eof` token, following Calico's tokenizer
 * (v3.32+: word operators need a word boundary; `starts with` may be written `startswith`).
 *
 * @throws SelectorSyntaxError (turned into CidrpoolError SEL_SYNTAX by parseSelector) on
 *   `expected ==`, `expected &&`, `expected ||`, `unterminated string`, `no closing ')' after has(` (or `all(`, `global(`),
 *   `expected identifier`, `label too long: …` and `expected operator after label "…"`.
 */
export function tokenizeSelector(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    pos = skipWhitespace(text, pos);
    if (pos >= text.length) {
      tokens.push({ kind: 'eof', value: '', offset: text.length });
      return tokens;
    }
    const ch = text[pos] as string;
    const previous = tokens.at(-1);
    const simple = PUNCTUATION[ch];
    if (simple !== undefined) {
      tokens.push({ kind: simple, value: '', offset: pos });
      pos += 1;
    } else if (ch === '"' || ch === "'") {
      // No escapes: the literal runs to the next identical quote (Calico tokenizer.go).
      const close = text.indexOf(ch, pos + 1);
      if (close === -1) {
        throw new SelectorSyntaxError('unterminated string', pos, `add the closing ${ch}`);
      }
      tokens.push({ kind: 'string', value: text.slice(pos + 1, close), offset: pos });
      pos = close + 1;
    } else if (ch === '=' || ch === '&' || ch === '|') {
      const double = `${ch}${ch}`;
      if (!text.startsWith(double, pos)) {
        const meaning = ch === '=' ? 'equality' : ch === '&' ? 'AND' : 'OR';
        throw new SelectorSyntaxError(`expected ${double}`, pos, `write ${double} for ${meaning}`);
      }
      tokens.push({ kind: ch === '=' ? 'eq' : ch === '&' ? 'and' : 'or', value: '', offset: pos });
      pos += 2;
    } else if (ch === '!') {
      const ne = text[pos + 1] === '=';
      tokens.push({ kind: ne ? 'ne' : 'not', value: '', offset: pos });
      pos += ne ? 2 : 1;
    } else if (previous?.kind === 'label') {
      const operator = WORD_OPERATORS.map((op) => ({
        kind: op.kind,
        end: matchWords(text, pos, op.words),
      })).find((op) => op.end !== undefined);
      if (operator?.end === undefined) {
        const word = text.slice(pos, scanLabel(text, pos)) || codePointAt(text, pos);
        const why = isLabelChar(ch) ? '' : ', which cannot appear in a label';
        throw new SelectorSyntaxError(
          `expected operator after label ${JSON.stringify(previous.value)}`,
          pos,
          `found ${JSON.stringify(word)}${why}; use ==, !=, in, not in, contains, starts with or ends with`,
        );
      }
      tokens.push({ kind: operator.kind, value: '', offset: pos });
      pos = operator.end;
    } else {
      const fn = FUNCTIONS.find((f) => text.startsWith(f.prefix, pos));
      if (fn !== undefined) {
        const [token, end] = readFunction(text, pos, fn.prefix, fn.kind);
        tokens.push(token);
        pos = end;
      } else {
        const label = readLabel(text, pos);
        tokens.push({ kind: 'label', value: label, offset: pos });
        pos += label.length;
      }
    }
  }
}

const GO_KIND_NAMES: Readonly<Record<TokenKind, string>> = {
  label: 'TokLabel',
  string: 'TokStringLiteral',
  lbrace: 'TokLBrace',
  rbrace: 'TokRBrace',
  comma: 'TokComma',
  eq: 'TokEq',
  ne: 'TokNe',
  in: 'TokIn',
  not: 'TokNot',
  notIn: 'TokNotIn',
  contains: 'TokContains',
  startsWith: 'TokStartsWith',
  endsWith: 'TokEndsWith',
  all: 'TokAll',
  has: 'TokHas',
  lparen: 'TokLParen',
  rparen: 'TokRParen',
  and: 'TokAnd',
  or: 'TokOr',
  global: 'TokGlobal',
  eof: 'TokEOF',
};

/** A token as Calico's messages print it (Go's `Token.String`): `TokLabel(zone)`, `TokEOF()`. */
export function formatTokenGo(token: Token): string {
  return `${GO_KIND_NAMES[token.kind]}(${token.value})`;
}

const SPELLINGS: Partial<Record<TokenKind, string>> = {
  ...OPERATOR_SPELLINGS,
  lbrace: '{',
  rbrace: '}',
  comma: ',',
  not: '!',
  all: 'all()',
  global: 'global()',
  lparen: '(',
  rparen: ')',
  and: '&&',
  or: '||',
};

/** A token for a person: `label "zone"`, `string "a"`, `"&&"`, `the end of the selector`. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'label':
      return `label ${JSON.stringify(token.value)}`;
    case 'string':
      return `string ${JSON.stringify(token.value)}`;
    case 'has':
      return `"has(${token.value})"`;
    case 'eof':
      return 'the end of the selector';
    default:
      return JSON.stringify(SPELLINGS[token.kind]);
  }
}
