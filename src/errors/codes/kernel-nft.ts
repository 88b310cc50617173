import type { ErrorSpec } from '../types.js';

// Raised by src/kernel/nft.ts (the nftables adapter) and the node agent's NAT service. The agent
// logs them and retries at its next resync; the CLI exits 1 as for every error.
const kernel = (
  category: ErrorSpec['category'],
  retryable: boolean,
  summary: string,
): ErrorSpec => ({ category, retryable, exitCode: 1, cniCode: 999, summary });

/** Error codes of the nftables adapter. Every code starts with KERNEL_NFT_. */
export const KERNEL_NFT_CODES = {
  KERNEL_NFT_MISSING: kernel(
    'not-found',
    false,
    'The `nft` program (Debian package nftables) is not installed or not on PATH.',
  ),
  KERNEL_NFT_FAILED: kernel(
    'unavailable',
    true,
    'nft rejected a script or a listing (details.stderr has its words); nothing of the script was applied.',
  ),
} as const satisfies Record<string, ErrorSpec>;
