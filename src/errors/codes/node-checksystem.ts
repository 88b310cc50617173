import type { ErrorSpec } from '../types.js';

/** Error codes of `cidrpool node checksystem`. */
export const NODE_CHECKSYSTEM_CODES = {
  NODE_CHECKSYSTEM_FAILED: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'node checksystem: a kernel feature or program this node needs is missing (the report names it and the pool that needs it).',
  },
} as const satisfies Record<string, ErrorSpec>;
