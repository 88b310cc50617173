// Small checks of address-valued fields shared by the Node, WorkloadEndpoint and IPReservation
// validators. Each returns the issues for one field (none when the field is absent).
import type { FieldIssue } from '../../errors/index.js';
import { parseCidrMasked, tryParseIp, type IpFamily } from '../../net/index.js';

const familyWord = (family?: IpFamily): string => (family ? `an IPv${family}` : 'an IP');

/** Parse `text` as an address with an optional prefix length (host bits allowed). */
export function tryParseAddressOrCidr(text: string): { family: IpFamily } | undefined {
  const ip = tryParseIp(text);
  if (ip) return ip;
  if (!text.includes('/')) return undefined;
  try {
    return parseCidrMasked(text);
  } catch {
    return undefined;
  }
}

/** A bare IP address, optionally of one family. */
export function checkIp(path: string, value: unknown, family?: IpFamily): FieldIssue[] {
  if (value === undefined || value === '') return [];
  const ip = typeof value === 'string' ? tryParseIp(value) : undefined;
  if (ip && (!family || ip.family === family)) return [];
  return [{ path, value, message: `must be ${familyWord(family)} address` }];
}

/** An address or a CIDR (host bits allowed), optionally of one family: Calico's `cidr` tag. */
export function checkIpOrCidr(path: string, value: unknown, family?: IpFamily): FieldIssue[] {
  if (value === undefined) return [];
  const parsed = typeof value === 'string' ? tryParseAddressOrCidr(value.trim()) : undefined;
  if (parsed && (!family || parsed.family === family)) return [];
  return [{ path, value, message: `must be ${familyWord(family)} address or CIDR` }];
}

const MAC = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/;

/** A 48-bit MAC address such as `ee:ee:ee:ee:ee:ee`. */
export function checkMac(path: string, value: unknown): FieldIssue[] {
  if (value === undefined || value === '') return [];
  return typeof value === 'string' && MAC.test(value)
    ? []
    : [{ path, value, message: 'must be a MAC address, e.g. "ee:ee:ee:ee:ee:ee"' }];
}

/** An integer within [min, max]. */
export function checkRange(
  path: string,
  value: unknown,
  min: number,
  max: number,
  message?: string,
): FieldIssue[] {
  if (value === undefined) return [];
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)
    return [];
  return [{ path, value, message: message ?? `must be between ${min} and ${max}` }];
}
