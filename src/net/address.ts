// IPv4 and IPv6 addresses: parse and format, as unsigned bigints.
import { CidrpoolError } from '../errors/index.js';
import type { IpAddress, IpFamily } from './types.js';

/** 32 for IPv4, 128 for IPv6. */
export const bitsOf = (family: IpFamily): 32 | 128 => (family === 4 ? 32 : 128);

/** The largest address of a family as an integer (all bits set). */
export const maxAddressOf = (family: IpFamily): bigint => (1n << BigInt(bitsOf(family))) - 1n;

const IPV4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parse a dotted quad; undefined when it is not one. Leading zeros are refused, like Go 1.17+. */
function tryParseIpv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // "010" is ambiguous (octal in inet_aton, decimal elsewhere), so Go and we reject it.
    if (!IPV4_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** The 16-bit groups of one side of `::` (or of the whole address); undefined when invalid. */
function tryParseGroups(text: string, allowIpv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const pieces = text.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    const last = i === pieces.length - 1;
    if (last && allowIpv4Tail && piece.includes('.')) {
      const v4 = tryParseIpv4Value(piece);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (IPV6_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Parse an IPv6 address (RFC 4291 §2.2 forms); undefined when it is not one. */
function tryParseIpv6Value(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 1) {
    const all = tryParseGroups(text, true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = tryParseGroups(halves[0]!, false);
    const tail = tryParseGroups(halves[1]!, true);
    // `::` stands for at least one zero group (RFC 5952 §4.2.2 forbids it for none; Go agrees).
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

/**
 * Parse an IPv4 dotted quad or an IPv6 address (with `::` and an embedded IPv4 tail).
 * Returns undefined for anything else: whitespace, zone ids (`fe80::1%eth0`), leading zeros in
 * IPv4 octets, IPv6 groups of more than four hex digits.
 */
export function tryParseIp(text: string): IpAddress | undefined {
  // Stored JSON can hold anything; a non-string is simply not an address.
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const value = tryParseIpv6Value(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = tryParseIpv4Value(text);
  return value === undefined ? undefined : { family: 4, value };
}

/**
 * Parse an IPv4 dotted quad or an IPv6 address (see tryParseIp for what is accepted).
 * `::ffff:1.2.3.4` stays an IPv6 address (family 6).
 * @throws CidrpoolError NET_INVALID_IP naming the text.
 */
export function parseIp(text: string): IpAddress {
  const ip = tryParseIp(text);
  if (ip === undefined) {
    throw new CidrpoolError('NET_INVALID_IP', `${JSON.stringify(text)} is not a valid IP address`, {
      details: { value: text, hint: ipHintFor(text) },
    });
  }
  return ip;
}

/** A short reason for the most common mistakes, for the error details. */
function ipHintFor(text: string): string {
  if (text.trim() !== text) return 'remove the surrounding whitespace';
  if (text.includes('%')) return 'zone ids (%...) are not allowed';
  if (text.includes('/')) return 'a prefix length is not allowed here';
  if (/(^|\.)0[0-9]/.test(text) && !text.includes(':')) {
    return 'IPv4 octets may not have leading zeros';
  }
  return 'expected a dotted quad like 10.0.0.1 or an IPv6 address like fd00::1';
}

function formatIpv4Value(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest (first on a tie) run of >= 2 zeros as `::`. */
function formatIpv6Value(value: bigint): string {
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted-quad tail.
  if (isIpv4MappedValue(value)) return `::ffff:${formatIpv4Value(value & 0xffffffffn)}`;
  const groups = Array.from({ length: 8 }, (_, i) =>
    Number((value >> BigInt(112 - 16 * i)) & 0xffffn),
  );
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** Dotted quad, or RFC 5952 for IPv6 (lower case, longest zero run as ::, no leading zeros). */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIpv4Value(ip.value) : formatIpv6Value(ip.value);
}

/** True when `ip` is an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2). */
export function isIpv4Mapped(ip: IpAddress): boolean {
  return ip.family === 6 && isIpv4MappedValue(ip.value);
}

function isIpv4MappedValue(value: bigint): boolean {
  return value >> 32n === 0xffffn;
}
