import type { ErrorSpec } from '../types.js';

// `cidrpool dashboard` (src/http): start-up errors exit 1 like every CLI error; the request
// errors become HTTP statuses (400, 404) and never reach a CNI caller (999).
const http = (category: ErrorSpec['category'], summary: string): ErrorSpec => ({
  category,
  retryable: false,
  exitCode: 1,
  cniCode: 999,
  summary,
});

/** Error codes raised by src/http. Every code starts with HTTP_. */
export const HTTP_CODES = {
  HTTP_LISTEN: http(
    'usage',
    'dashboard --listen is not ADDR:PORT, names a non-loopback address without --token-file, or the port cannot be bound.',
  ),
  HTTP_TOKEN_FILE: http(
    'usage',
    'dashboard --token-file cannot be read, or holds no token (at least 16 characters on its first line).',
  ),
  HTTP_STATE_DIR: http(
    'usage',
    'dashboard --state-dir (where the forecast keeps its samples across restarts) cannot be created.',
  ),
  HTTP_BAD_REQUEST: http('validation', 'A dashboard API request has a malformed parameter (400).'),
  HTTP_NOT_FOUND: http(
    'not-found',
    'A dashboard API request names something that does not exist (404).',
  ),
} as const satisfies Record<string, ErrorSpec>;
