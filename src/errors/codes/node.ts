import type { ErrorSpec } from '../types.js';

/**
 * Error codes raised by the node agent (`cidrpool node run`, src/node) about its input. The
 * kernel adapters it drives raise KERNEL_ codes (codes/kernel.ts).
 */
export const NODE_CODES = {
  NODE_INVALID_ADDRESS: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A --ip/--ip6 value is not ADDR/PREFIX of the right family, `autodetect` or `none` (e.g. --ip 192.168.10.11 without its prefix length).',
  },
  NODE_INVALID_AUTODETECTION: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'The --ip-autodetection-method is not first-found, interface=REGEX, skip-interface=REGEX, can-reach=ADDR or cidr=CIDR[,CIDR...], or its argument does not parse.',
  },
  NODE_INVALID_FLAG: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A numeric flag of `cidrpool node run` (--vxlan-vni, --vxlan-port, --vxlan-mtu, --route-refresh-interval, ...) is not a whole number in its range.',
  },
  NODE_ADDRESS_NOT_FOUND: {
    category: 'not-found',
    retryable: true,
    exitCode: 1,
    cniCode: 999,
    summary:
      'Autodetection found no address for the node on its interfaces (no interface matched, or the matching ones carry no global address of that family).',
  },
} as const satisfies Record<string, ErrorSpec>;
