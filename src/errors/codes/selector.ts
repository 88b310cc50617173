import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/selector. Every code starts with SEL_. */
export const SEL_CODES = {} as const satisfies Record<string, ErrorSpec>;
