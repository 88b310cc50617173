import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/datastore (every backend). Every code starts with DS_. */
export const DS_CODES = {
  DS_NOT_FOUND: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'The key does not exist.',
  },
  DS_ALREADY_EXISTS: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'Create of a key that already exists.',
  },
  DS_CONFLICT: {
    category: 'conflict',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary: 'A compare-and-swap failed: the key changed since it was read (details.key).',
  },
  DS_UNAVAILABLE: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary: 'The datastore could not be reached or did not answer in time.',
  },
  DS_CORRUPT: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'A stored value could not be decoded (details.key names it).',
  },
  DS_CONFIG: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'The datastore configuration is wrong: bad config file, endpoint, certificate or data directory.',
  },
  DS_COMPACTED: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    // Datastore codes use 100-102; 103-106 belong to the CNI plugin, so watch errors take 107.
    cniCode: 999,
    summary:
      'A watch started from a revision whose events were already discarded: list again and watch from the revision of that list.',
  },
  DS_REJECTED: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'The datastore refused the request itself (e.g. etcd: a value over 1.5 MiB or a transaction of more than 128 operations); a retry will not help.',
  },
} as const satisfies Record<string, ErrorSpec>;
