import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/ipam. Every code starts with IPAM_. */
export const IPAM_CODES = {
  IPAM_INVALID_ARGUMENT: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'An IPAM request is malformed: an empty or invalid IP, CIDR, host name or count.',
  },
  IPAM_INVALID_HANDLE: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      "A handle ID is empty, longer than 253 characters, or holds a character other than letters, digits, '-', '_' and '.' (or '..').",
  },
  IPAM_USE_REQUIRED: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'AutoAssign without an intended use ("must specify the intended use when assigning an IP").',
  },
  IPAM_INVALID_ANNOTATION: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A cni.projectcalico.org pool or address annotation is not valid JSON or names a bad IP.',
  },
  IPAM_POOL_NOT_FOUND: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A requested pool (name or CIDR) does not exist, is disabled or is of the other IP family.',
  },
  IPAM_NO_QUALIFIED_POOL: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'No enabled pool qualifies: none at all, or none allowed for the intended use.',
  },
  IPAM_NO_POOLS_FOR_NODE: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'No enabled pool selects the node and the namespace ("no configured Calico pools for node X").',
  },
  IPAM_NODE_NOT_FOUND: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'The Calico Node resource of the requesting host does not exist.',
  },
  IPAM_BLOCK_LIMIT: {
    category: 'exhausted',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'The host owns maxBlocksPerHost blocks (20 when unset) and needs another; no borrowing is tried.',
  },
  IPAM_SHORTFALL: {
    category: 'exhausted',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'AutoAssign found fewer addresses than requested ("Assigned X out of N requested ..."); it released what it took.',
  },
  IPAM_NO_AUTO_ALLOCATE: {
    category: 'exhausted',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'autoAllocateBlocks is false and no affine block has room ("failed to find or claim a block").',
  },
  IPAM_CONTENTION: {
    category: 'conflict',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary:
      'A compare-and-swap loop ran out of retries ("Max retries hit - excessive concurrent IPAM requests").',
  },
  IPAM_CLAIM_CONFLICT: {
    category: 'conflict',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary: 'Another host claimed the block first ("<cidr> already claimed by <affinity>").',
  },
  IPAM_ALREADY_ASSIGNED: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'AssignIP of an address that is allocated or cooling down ("Address already assigned in block").',
  },
  IPAM_NOT_IN_POOL: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: 'AssignIP of an address outside every enabled pool.',
  },
  IPAM_USE_NOT_ALLOWED: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary: "AssignIP into a pool whose allowedUses lacks the request's intended use.",
  },
  IPAM_AFFINITY_MISMATCH: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'strictAffinity is on and the block belongs to another host or to none.',
  },
  IPAM_BAD_SEQUENCE_NUMBER: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      "Release with a sequence number that differs from the address's: the block's batch is refused.",
  },
  IPAM_BAD_HANDLE: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      "Release with a handle that differs from the allocation's: the block's batch is refused.",
  },
  IPAM_HANDLE_NOT_FOUND: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'ReleaseByHandle or IPsByHandle of a handle that does not exist.',
  },
  IPAM_IN_COOLDOWN: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'The address was released and is still cooling down (ipCooldownSeconds).',
  },
  IPAM_BLOCK_NOT_EMPTY: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: "Releasing a block's affinity with mustBeEmpty while it still holds addresses.",
  },
  IPAM_BLOCK_CHANGED: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'The block changed since it was read ("IPAM block updated since we last read it").',
  },
  IPAM_CIDR_NOT_IN_POOL: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'An affinity operation on a CIDR outside every enabled pool, or smaller than its blocks.',
  },
  IPAM_INVALID_CONFIG: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'SetConfig with a forbidden combination (strictAffinity, autoAllocateBlocks, maxBlocksPerHost).',
  },
  IPAM_CORRUPT_VALUE: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'A stored IPAM block, affinity, handle or config cannot be decoded (details.key names it).',
  },
  IPAM_HANDLE_COUNT: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      "A handle's per-block count would go negative or is missing (logged, not raised to callers).",
  },
  IPAM_LOCK_TIMEOUT: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary: 'The per-host lock file in lockDir was not acquired in time.',
  },
} as const satisfies Record<string, ErrorSpec>;
