import type { ErrorSpec } from '../types.js';

/** Error codes raised by src/datastore. Every code starts with DS_. */
export const DS_CODES = {} as const satisfies Record<string, ErrorSpec>;
