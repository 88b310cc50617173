// CIDRs: parse (strict or masked), format, size, containment, ordinals inside a network.
import { CidrpoolError } from '../errors/index.js';
import { bitsOf, formatIp, maxAddressOf, tryParseIp } from './address.js';
import type { Cidr, IpAddress, IpFamily } from './types.js';

// Decimal without leading zeros or sign: Go's netip.ParsePrefix is as strict.
const PREFIX_TEXT = /^(?:0|[1-9][0-9]{0,2})$/;

const familyName = (family: IpFamily): string => (family === 4 ? 'IPv4' : 'IPv6');

/** The host part mask of a network of length `prefix`. */
const hostMaskOf = (family: IpFamily, prefix: number): bigint =>
  (1n << BigInt(bitsOf(family) - prefix)) - 1n;

/** True when `prefix` is an integer prefix length allowed for `family`. */
export function isValidPrefix(family: IpFamily, prefix: number): boolean {
  return Number.isInteger(prefix) && prefix >= 0 && prefix <= bitsOf(family);
}

/**
 * Throw unless `prefix` is a valid prefix length for `family`.
 * @throws CidrpoolError NET_INVALID_PREFIX
 */
export function assertPrefix(family: IpFamily, prefix: number): void {
  if (!isValidPrefix(family, prefix)) {
    throw new CidrpoolError(
      'NET_INVALID_PREFIX',
      `prefix length ${prefix} is out of range for ${familyName(family)} (0-${bitsOf(family)})`,
      { details: { family, prefix } },
    );
  }
}

/**
 * Throw unless `a` and `b` are of the same family.
 * @throws CidrpoolError NET_FAMILY_MISMATCH
 */
export function assertSameFamily(
  a: { readonly family: IpFamily },
  b: { readonly family: IpFamily },
  what: string,
): void {
  if (a.family !== b.family) {
    throw new CidrpoolError(
      'NET_FAMILY_MISMATCH',
      `${what}: cannot combine ${familyName(a.family)} with ${familyName(b.family)}`,
      { details: { families: [a.family, b.family] } },
    );
  }
}

/**
 * The network of `ip` at `prefix`, e.g. the block that holds an address.
 * @throws CidrpoolError NET_INVALID_PREFIX
 */
export function networkOf(ip: IpAddress, prefix: number): Cidr {
  assertPrefix(ip.family, prefix);
  return {
    family: ip.family,
    base: ip.value & (maxAddressOf(ip.family) ^ hostMaskOf(ip.family, prefix)),
    prefix,
  };
}

interface CidrParts {
  readonly ip: IpAddress;
  readonly prefix: number;
}

/** Split `addr/len`, or explain why the text is not a CIDR (a string), ignoring host bits. */
function splitCidrText(text: string): CidrParts | string {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const bare = tryParseIp(text);
    return bare === undefined
      ? 'expected address/prefix-length, e.g. 10.0.0.0/16'
      : `it has no prefix length; write "${text}/${bitsOf(bare.family)}" for a single address`;
  }
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const ip = tryParseIp(addressText);
  if (ip === undefined) return `${JSON.stringify(addressText)} is not a valid IP address`;
  const bits = bitsOf(ip.family);
  if (!PREFIX_TEXT.test(prefixText) || Number(prefixText) > bits) {
    return `prefix length ${JSON.stringify(prefixText)} must be a decimal number 0-${bits} for ${familyName(ip.family)}`;
  }
  return { ip, prefix: Number(prefixText) };
}

function invalidCidr(text: string, reason: string): CidrpoolError {
  return new CidrpoolError(
    'NET_INVALID_CIDR',
    `${JSON.stringify(text)} is not a valid CIDR: ${reason}`,
    {
      details: { value: text, reason },
    },
  );
}

/** Like parseCidr, but returns undefined instead of throwing (also for host bits). */
export function tryParseCidr(text: string): Cidr | undefined {
  // Stored JSON can hold anything; a non-string is simply not a CIDR.
  if (typeof text !== 'string') return undefined;
  const parts = splitCidrText(text);
  if (typeof parts === 'string') return undefined;
  const cidr = networkOf(parts.ip, parts.prefix);
  return cidr.base === parts.ip.value ? cidr : undefined;
}

/**
 * Parse `addr/len` strictly: host bits are rejected, never silently masked (Calico rejects an
 * IPPool CIDR that "is not strictly masked").
 * @throws CidrpoolError NET_HOST_BITS (details.masked is the network's text, the hint names it);
 *   NET_INVALID_CIDR for anything else (bare address, bad address, bad prefix length).
 */
export function parseCidr(text: string): Cidr {
  const parts = splitCidrText(text);
  if (typeof parts === 'string') throw invalidCidr(text, parts);
  const cidr = networkOf(parts.ip, parts.prefix);
  if (cidr.base !== parts.ip.value) {
    const masked = formatCidr(cidr);
    const hint = `the network address is ${JSON.stringify(masked)}`;
    throw new CidrpoolError('NET_HOST_BITS', `${JSON.stringify(text)} has host bits set; ${hint}`, {
      details: { value: text, masked, hint },
    });
  }
  return cidr;
}

/**
 * Like parseCidr but masks host bits and accepts a bare address as /32 or /128, as Calico reads
 * IPReservation entries (`10.0.0.5/24` reserves `10.0.0.0/24`). The caller trims whitespace.
 * @throws CidrpoolError NET_INVALID_CIDR
 */
export function parseCidrMasked(text: string): Cidr {
  if (!text.includes('/')) {
    const ip = tryParseIp(text);
    if (ip === undefined) throw invalidCidr(text, 'expected an address or address/prefix-length');
    return networkOf(ip, bitsOf(ip.family));
  }
  const parts = splitCidrText(text);
  if (typeof parts === 'string') throw invalidCidr(text, parts);
  return networkOf(parts.ip, parts.prefix);
}

/** `base/prefix`, the address in the form of formatIp (RFC 5952 for IPv6). */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.base })}/${cidr.prefix}`;
}

/** Number of addresses in the network. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(bitsOf(cidr.family) - cidr.prefix);
}

/** The last address (as an integer) of the network. */
export function cidrLast(cidr: Cidr): bigint {
  return cidr.base + cidrSize(cidr) - 1n;
}

/** True when `ip` lies in the network (false for another family). */
export function cidrContainsIp(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && ip.value >= cidr.base && ip.value <= cidrLast(cidr);
}

/** True when every address of `inner` lies in `outer` (false for another family). */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    inner.base >= outer.base &&
    inner.base <= cidrLast(outer)
  );
}

/** Either contains the other's base address (same family only). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

/** Total order: family, then base, then prefix. */
export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.base !== b.base) return a.base < b.base ? -1 : 1;
  return a.prefix - b.prefix;
}

/**
 * The address `ordinal` places into the network (0 = the base address).
 * @throws CidrpoolError NET_OUT_OF_RANGE when the ordinal is not an integer in [0, size).
 */
export function addressAt(cidr: Cidr, ordinal: number | bigint): IpAddress {
  const size = cidrSize(cidr);
  const n = typeof ordinal === 'bigint' || Number.isSafeInteger(ordinal) ? BigInt(ordinal) : -1n;
  if (n < 0n || n >= size) {
    throw new CidrpoolError(
      'NET_OUT_OF_RANGE',
      `ordinal ${String(ordinal)} is outside ${formatCidr(cidr)}, which has ordinals 0-${size - 1n}`,
      { details: { cidr: formatCidr(cidr), ordinal: String(ordinal) } },
    );
  }
  return { family: cidr.family, value: cidr.base + n };
}

/**
 * How far `ip` lies into the network, as a bigint (0 = base).
 * @throws CidrpoolError NET_FAMILY_MISMATCH; NET_OUT_OF_RANGE when `ip` is outside.
 */
export function offsetOf(cidr: Cidr, ip: IpAddress): bigint {
  assertSameFamily(cidr, ip, `address ${formatIp(ip)} in ${formatCidr(cidr)}`);
  if (!cidrContainsIp(cidr, ip)) {
    throw new CidrpoolError('NET_OUT_OF_RANGE', `${formatIp(ip)} is not in ${formatCidr(cidr)}`, {
      details: { cidr: formatCidr(cidr), ip: formatIp(ip) },
    });
  }
  return ip.value - cidr.base;
}

/**
 * How far `ip` lies into the network (0 = base), as a number: meant for blocks.
 * @throws CidrpoolError NET_FAMILY_MISMATCH; NET_OUT_OF_RANGE when `ip` is outside, or when the
 *   ordinal exceeds Number.MAX_SAFE_INTEGER (use offsetOf for such networks).
 */
export function ordinalOf(cidr: Cidr, ip: IpAddress): number {
  const offset = offsetOf(cidr, ip);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CidrpoolError(
      'NET_OUT_OF_RANGE',
      `the ordinal of ${formatIp(ip)} in ${formatCidr(cidr)} is too large for a number; use offsetOf`,
      { details: { cidr: formatCidr(cidr), ip: formatIp(ip) } },
    );
  }
  return Number(offset);
}
