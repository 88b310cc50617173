import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/resources. Every code starts with RES_. */
export const RES_CODES = {
  RES_INVALID: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A resource breaks a validation rule (issues[] lists every field, with value and hint).',
  },
  RES_MANIFEST_SYNTAX: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'A manifest is not valid YAML or JSON, or a document is larger than 10 MiB.',
  },
  RES_UNKNOWN_FIELD: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'A manifest has a field the resource does not define, or a field in the wrong place.',
  },
  RES_UNKNOWN_KIND: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'A manifest document has a kind/apiVersion pair that is not a known resource type.',
  },
  RES_MANIFEST_READ: {
    category: 'usage',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'A manifest file, directory or stdin could not be read.',
  },
} as const satisfies Record<string, ErrorSpec>;
