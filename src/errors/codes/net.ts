import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/net. Every code starts with NET_. */
export const NET_CODES = {} as const satisfies Record<string, ErrorSpec>;
