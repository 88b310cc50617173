import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/client. Every code starts with CLIENT_. */
export const CLIENT_CODES = {
  CLIENT_NOT_FOUND: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'The resource does not exist (`resource does not exist: Kind(name)`).',
  },
  CLIENT_ALREADY_EXISTS: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'Create of a resource that exists (`resource already exists: Kind(name)`).',
  },
  CLIENT_CONFLICT: {
    category: 'conflict',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary:
      'The resource changed since it was read, or its resourceVersion is stale (`update conflict: Kind(name)`).',
  },
  CLIENT_VALIDATION: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'Create/update/apply rejected a resource: a field rule, a cross-resource rule (pool overlap, block size) or an update rule (issues[] lists every field).',
  },
} as const satisfies Record<string, ErrorSpec>;
