import { CLIENT_CODES } from './codes/client.js';
import { CLI_CODES } from './codes/cli.js';
import { CNI_CODES } from './codes/cni.js';
import { DS_CODES } from './codes/datastore.js';
import { GENERAL_CODES } from './codes/general.js';
import { IPAM_CODES } from './codes/ipam.js';
import { KERNEL_NFT_CODES } from './codes/kernel-nft.js';
import { NET_CODES } from './codes/net.js';
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
  ...CLI_CODES,
  ...CNI_CODES,
  ...KERNEL_NFT_CODES,
  ...NODE_NAT_CODES,
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
