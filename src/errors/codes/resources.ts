import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/resources. Every code starts with RES_. */
export const RES_CODES = {} as const satisfies Record<string, ErrorSpec>;
