import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/client. Every code starts with CLIENT_. */
export const CLIENT_CODES = {} as const satisfies Record<string, ErrorSpec>;
