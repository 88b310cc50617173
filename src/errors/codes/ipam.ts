import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/ipam. Every code starts with IPAM_. */
export const IPAM_CODES = {} as const satisfies Record<string, ErrorSpec>;
