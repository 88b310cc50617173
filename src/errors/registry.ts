import { BGP_CODES } from './codes/bgp.js';
import { AGENT_CODES } from './codes/agent.js';
import { CLIENT_CODES } from './codes/client.js';
import { CLI_CODES } from './codes/cli.js';
import { CNI_CODES } from './codes/cni.js';
import { DS_CODES } from './codes/datastore.js';
import { GENERAL_CODES } from './codes/general.js';
import { HTTP_CODES } from './codes/http.js';
import { IPAM_CODES } from './codes/ipam.js';
import { KERNEL_CODES } from './codes/kernel.js';
import { NET_CODES } from './codes/net.js';
import { NODE_CODES } from './codes/node.js';
import { NODE_NAT_CODES } from './codes/node-nat.js';
import { RES_CODES } from './codes/resources.js';
import { SEL_CODES } from './codes/selector.js';
import type { ErrorSpec } from './types.js';

/** The one registry of error codes: code -> category, retryable, exit code, CNI code, summary. */
export const ERROR_CODES = {
  ...GENERAL_CODES,
  ...NET_CODES,
  ...SEL_CODES,
  ...RES_CODES,
  ...DS_CODES,
  ...IPAM_CODES,
  ...CLIENT_CODES,
  ...KERNEL_CODES,
  ...CLI_CODES,
  ...CNI_CODES,
  ...HTTP_CODES,
  ...NODE_CODES,
  ...BGP_CODES,
  ...AGENT_CODES,
  ...NODE_NAT_CODES,
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
