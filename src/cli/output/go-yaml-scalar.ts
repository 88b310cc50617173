// How go-yaml v2 (the YAML behind calicoctl's `-o yaml`, via sigs.k8s.io/yaml) writes a string:
// plain, 'single-quoted', "double-quoted" or a |- literal block. Ported from encode.go stringv
// (quote what YAML 1.1 would read as another type), emitterc.go analyze_scalar (which styles the
// characters allow) and select_scalar_style (plain, else single, else double), in block context
// with unicode output, as calicoctl's encoder runs it. So `!all()` prints as '!all()', "yes" as
// "yes", and "a: b" as 'a: b'.

export type GoScalarStyle = 'plain' | 'single' | 'double' | 'literal';

// resolve(): the first character hints which non-string types to try.
const RESOLVE_MAP = new Set(
  [
    'y Y yes Yes YES true True TRUE on On ON',
    'n N no No NO false False FALSE off Off OFF',
    '~ null Null NULL',
    '.nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF',
  ]
    .join(' ')
    .split(' '),
);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseInt/ParseUint with base 0 (underscores already removed), as a bigint. */
function goParseInt(text: string, signed: boolean): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  if (m[1] !== '' && !signed) return undefined;
  const body = m[2]!;
  let value: bigint;
  if (/^0[oO]/.test(body)) value = BigInt(`0o${body.slice(2)}`);
  else if (/^0[xXbB]/.test(body)) value = BigInt(body.toLowerCase());
  else if (body.length > 1 && body.startsWith('0')) value = BigInt(`0o${body.slice(1)}`);
  else value = BigInt(body);
  if (m[1] === '-') value = -value;
  if (signed ? value > INT64_MAX || value < -INT64_MAX - 1n : value > UINT64_MAX) return undefined;
  return value;
}

const daysIn = (year: number, month: number): number =>
  new Date(Date.UTC(year, month, 0)).getUTCDate();

/** go-yaml's parseTimestamp: YYYY-M-D, optionally with a time (Go time.Parse layouts). */
function isTimestamp(text: string): boolean {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(
      text,
    );
  if (!m) return false;
  const [, y, mo, d, sep, h, mi, s, , zone] = m;
  const month = Number(mo);
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysIn(Number(y), month))
    return false;
  if (sep === undefined) return true;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return false;
  // With T/t the layout needs a zone; with a space it allows none.
  return sep === ' ' ? zone === undefined : zone !== undefined;
}

/** True when go-yaml v2 resolves the plain scalar `text` to !!str (encode.go resolve). */
export function resolvesToString(text: string): boolean {
  if (text === '') return false; // null
  const first = text[0]!;
  const numeric = /[0-9+-]/.test(first);
  if (!numeric && !'yYnNtTfFoO~.'.includes(first)) return true;
  if (RESOLVE_MAP.has(text)) return false;
  if (first === '.') return !/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text);
  if (!numeric) return true;
  if (isTimestamp(text)) return false;
  const plain = text.replace(/_/g, '');
  if (goParseInt(plain, true) !== undefined || goParseInt(plain, false) !== undefined) return false;
  return !YAML_STYLE_FLOAT.test(plain);
}

const isBreak = (c: string): boolean =>
  c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

export function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  );
}

interface Analysis {
  multiline: boolean;
  blockPlain: boolean;
  single: boolean;
  block: boolean;
}

/** emitterc.go yaml_emitter_analyze_scalar, the parts that matter in block context. */
function analyze(value: string): Analysis {
  if (value === '') return { multiline: false, blockPlain: true, single: true, block: false };
  const chars = [...value];
  let blockIndicators = value.startsWith('---') || value.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let previousSpace = false;
  let previousBreak = false;
  chars.forEach((c, i) => {
    const next = chars[i + 1];
    const followedByWhitespace = next === undefined || isBlank(next);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace)
        blockIndicators = true;
    } else if (c === ':' && followedByWhitespace) blockIndicators = true;
    else if (c === '#' && precededByWhitespace) blockIndicators = true;
    if (!isPrintable(c)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlank(c) || isBreak(c);
  });
  const out: Analysis = { multiline: lineBreaks, blockPlain: true, single: true, block: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) out.blockPlain = false;
  if (trailingSpace) out.block = false;
  if (breakSpace) {
    out.blockPlain = false;
    out.single = false;
  }
  if (spaceBreak || special) {
    out.blockPlain = false;
    out.single = false;
    out.block = false;
  }
  if (lineBreaks || blockIndicators) out.blockPlain = false;
  return out;
}

/** The style go-yaml v2 writes the string `value` in, as a map key or as a value. */
export function goScalarStyle(value: string, isKey: boolean): GoScalarStyle {
  const canUsePlain = resolvesToString(value) && !BASE60_FLOAT.test(value);
  let style: GoScalarStyle = value.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double';
  const a = analyze(value);
  if (isKey && a.multiline) style = 'double';
  if (style === 'plain') {
    if (!a.blockPlain || (value === '' && isKey)) style = 'single';
  }
  if (style === 'single' && !a.single) style = 'double';
  if (style === 'literal' && (!a.block || isKey)) style = 'double';
  return style;
}
