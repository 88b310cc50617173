import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/cni. Every code starts with CNI_. */
export const CNI_CODES = {} as const satisfies Record<string, ErrorSpec>;
