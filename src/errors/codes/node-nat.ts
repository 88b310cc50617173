import type { ErrorSpec } from '../types.js';

/** Error codes of the node agent's NAT service and of `cidrpool node checksystem`. */
export const NODE_NAT_CODES = {
  NODE_CHECKSYSTEM_FAILED: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'node checksystem: a kernel feature or program this node needs is missing (the report names it and the pool that needs it).',
  },
  NODE_NAT_CONFIG: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'A Felix NAT setting of the node agent (FELIX_NATOUTGOINGADDRESS, FELIX_NATPORTRANGE, FELIX_NATOUTGOINGEXCLUSIONS) has a bad value.',
  },
} as const satisfies Record<string, ErrorSpec>;
