import type { ErrorSpec } from '../types.js';

/** Error codes of the node agent's IPAM socket (src/node/ipam-service.ts, src/cni/agent-call.ts). */
export const AGENT_CODES = {
  AGENT_MISMATCH: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'The node agent serves another node, another datastore or another protocol version; the plugin then uses the datastore directly.',
  },
  AGENT_BAD_REQUEST: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary: 'A message on the IPAM socket that is not a request of the protocol (details.op).',
  },
  AGENT_SOCKET_IN_USE: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'Another running agent answers on the IPAM socket or metrics address given to `node run`.',
  },
} as const satisfies Record<string, ErrorSpec>;
