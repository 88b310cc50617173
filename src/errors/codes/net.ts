import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/net. Every code starts with NET_. */
export const NET_CODES = {
  NET_INVALID_IP: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'Text is not an IPv4 dotted quad or an IPv6 address (no zones, no whitespace, no leading zeros in IPv4 octets).',
  },
  NET_INVALID_CIDR: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'Text is not `address/prefix-length` with a prefix length valid for the family.',
  },
  NET_HOST_BITS: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A CIDR has host bits set; it is rejected, not masked (details.masked is the network address).',
  },
  NET_INVALID_PREFIX: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A prefix length is out of range for the family, or a block prefix is shorter than its pool.',
  },
  NET_OUT_OF_RANGE: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'An address, ordinal or block index lies outside the network it was asked about.',
  },
  NET_FAMILY_MISMATCH: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'An IPv4 value was combined with an IPv6 value (or the reverse).',
  },
} as const satisfies Record<string, ErrorSpec>;
