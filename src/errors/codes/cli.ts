import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/cli. Every code starts with CLI_. */
export const CLI_CODES = {} as const satisfies Record<string, ErrorSpec>;
