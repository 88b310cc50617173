// JSON that keeps 64-bit integers exact (ipam-core.md §2.6): block sequence numbers are about
// 1.78e18, beyond 2^53, so JSON.parse would corrupt them. The parser returns integers that are
// not safe JS numbers as bigint; the writer prints bigint as a bare integer and escapes strings
// the way Go's encoding/json does, so what we write is byte-compatible with Calico's etcd form.
import { CidrpoolError } from '../errors/index.js';

export type JsonValue =
  null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * Parse JSON text; integers outside the safe range come back as bigint.
 * Throws IPAM_CORRUPT_VALUE (details.key) on bad text.
 */
export function parseJson(text: string, key = ''): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new CidrpoolError(
      'IPAM_CORRUPT_VALUE',
      `invalid JSON at ${key || 'value'}: ${what} at offset ${i}`,
      {
        details: { key },
      },
    );
  };
  const skip = (): void => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const value = (): JsonValue => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsonValue } = {};
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        skip();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        obj[k] = value();
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const str = (): string => {
    // Find the closing quote, then let JSON.parse decode the escapes of that one string.
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  skip();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/** Go's encoding/json string form: HTML-sensitive characters and U+2028/9 escaped. */
export function quoteGo(s: string): string {
  const quoted = JSON.stringify(s);
  if (!GO_ESCAPED.test(quoted)) return quoted;
  return quoted.replace(GO_ESCAPED_ALL, (ch) => {
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPED_ALL = /[<>&\u2028\u2029]/g;

/**
 * Compact JSON in the given key order (objects keep insertion order; use sortKeys for Go maps).
 * bigint prints as a bare integer; undefined fields are left out.
 */
export function stringifyGo(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quoteGo(value);
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map((v) => stringifyGo(v)).join(',')}]`;
  const parts: string[] = [];
  // A Map keeps its insertion order for every key; a plain object would put integer-like keys
  // ("0", "10", "2" of sequenceNumberForAllocation) first and in numeric order.
  const entries =
    value instanceof Map
      ? [...(value as Map<string, unknown>).entries()]
      : Object.entries(value as Record<string, unknown>);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    parts.push(`${quoteGo(k)}:${stringifyGo(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * A string map with its keys in the order Go's encoding/json writes them: sorted as byte
 * strings, so "10" comes before "2". A Map, because a plain object would reorder integer-like
 * keys numerically; stringifyGo writes a Map's entries in order.
 */
export function sortKeys<T>(map: Readonly<Record<string, T>>): Map<string, T> {
  const keys = Object.keys(map);
  // Without surrogates (characters past U+FFFF), UTF-16 code unit order, the default sort, is
  // UTF-8 byte order; only keys with them need the byte comparison.
  if (keys.some((k) => SURROGATE.test(k)))
    keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  else keys.sort();
  return new Map(keys.map((k) => [k, map[k]!]));
}

const SURROGATE = /[\ud800-\udfff]/;
