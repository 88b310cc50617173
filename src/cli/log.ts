// -l/--log-level: calicoctl's levels (default panic, i.e. silent). Messages go to stderr.

/** calicoctl's levels, least to most verbose. */
export const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let current: LogLevel = 'panic';

/** Set the level; false when `level` is not one of LOG_LEVELS. */
export function setLogLevel(level: string): boolean {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) return false;
  current = level as LogLevel;
  return true;
}

/** Write one log line to stderr when `level` is enabled. */
export function log(
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
): void {
  if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf(current)) return;
  const extra =
    fields && Object.keys(fields).length > 0
      ? ` ${JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`
      : '';
  process.stderr.write(`${new Date().toISOString()} [${level.toUpperCase()}] ${message}${extra}\n`);
}
