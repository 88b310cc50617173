import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/selector. Every code starts with SEL_. */
export const SEL_CODES = {
  SEL_SYNTAX: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A label selector (nodeSelector, namespaceSelector) does not parse; position.column and the excerpt point at the problem.',
  },
} as const satisfies Record<string, ErrorSpec>;
