import type { ErrorSpec } from '../types.js';

const bgp = (category: ErrorSpec['category'], summary: string, retryable = false): ErrorSpec => ({
  category,
  retryable,
  exitCode: 1,
  cniCode: 999,
  summary,
});

/** Error codes of BGP mode (src/dataplane/bird-config.ts, src/kernel/bird.ts). Prefix BGP_. */
export const BGP_CODES = {
  BGP_NO_NODE_ADDRESS: bgp(
    'validation',
    "The node has no spec.bgp.ipv4Address, which BIRD needs as its router id and every peer as the node's address.",
  ),
  BGP_CONFIG_REJECTED: bgp(
    'internal',
    '`bird -p` rejected a generated configuration; the running BIRD keeps its previous one.',
  ),
  BGP_BIRD_UNAVAILABLE: bgp(
    'unavailable',
    'BIRD cannot be started or its control socket does not answer (birdc).',
    true,
  ),
} as const satisfies Record<string, ErrorSpec>;
