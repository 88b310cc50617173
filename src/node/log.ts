// The node agent's log: one line per event on stderr, `time level message key=value ...`.
import type { AgentLog, LogLevel } from './types.js';

const ORDER: readonly LogLevel[] = ['debug', 'info', 'warning', 'error'];

/** A log that prints `minLevel` and above on stderr. */
export function createAgentLog(minLevel: LogLevel = 'info'): AgentLog {
  const min = ORDER.indexOf(minLevel);
  return (level, message, fields = {}) => {
    if (ORDER.indexOf(level) < min) return;
    const extra = Object.entries(fields)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    process.stderr.write(
      `${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra ? ` ${extra}` : ''}\n`,
    );
  };
}
