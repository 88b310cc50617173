import type { ErrorSpec } from '../types.js';

/** Codes that belong to no single module. */
export const GENERAL_CODES = {
  INTERNAL: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'A bug in cidrpool: an invariant did not hold. Please report it.',
  },
} as const satisfies Record<string, ErrorSpec>;
