import type { ErrorSpec } from '../types.js';

/**
 * Error codes raised by src/kernel (the adapters that run `ip` and friends). Every code starts
 * with KERNEL_. A CNI plugin that meets one reports it with the code's cniCode.
 */
export const KERNEL_CODES = {
  KERNEL_TOOL_MISSING: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'A kernel tool (ip or bridge from iproute2, nsenter from util-linux, sysctl from procps, nft, bird) is not installed or not on PATH.',
  },
  KERNEL_NETNS_NOT_FOUND: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'The network namespace path (e.g. CNI_NETNS) does not exist or cannot be entered.',
  },
  KERNEL_LINK_NOT_FOUND: {
    category: 'not-found',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'A network interface named in a kernel operation does not exist.',
  },
  KERNEL_EXISTS: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'The kernel refused to add an interface, address or route because one with that name or destination exists.',
  },
  KERNEL_COMMAND_FAILED: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 999,
    summary:
      'A kernel operation (an ip or sysctl command) failed for another reason, or a kernel program could not be started or timed out; the message quotes the command and its error.',
  },
  KERNEL_NFT_FAILED: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 999,
    summary:
      'nft rejected a script or a listing (details.stderr has its words); nothing of the script was applied.',
  },
} as const satisfies Record<string, ErrorSpec>;
