// `cidrpool` entry point: parse, run, print any error on stderr, exit 0 or 1 (as calicoctl).
import { CommanderError } from 'commander';
import { CidrpoolError } from '../errors/index.js';
import { errorMessage, formatError } from './errors.js';
import { flushStreams, writeErr } from './io.js';
import { LOG_LEVELS, setLogLevel } from './log.js';
import { buildProgram } from './program.js';

/** The global -l value, read before parsing so that it applies to every command. */
function applyLogLevel(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let level: string | undefined;
    if (arg === '-l' || arg === '--log-level') level = argv[i + 1];
    else if (arg.startsWith('--log-level=')) level = arg.slice('--log-level='.length);
    else if (arg.startsWith('-l') && arg.length > 2) level = arg.slice(2).replace(/^=/, '');
    else continue;
    if (level === undefined || !setLogLevel(level)) {
      writeErr(`Unknown log level: ${level ?? ''}, expected one of: \n${LOG_LEVELS.join(', ')}.\n`);
      return false;
    }
    return true;
  }
  return true;
}

/** Root options that take a value, as they may stand before the command. */
const ROOT_VALUE_OPTIONS = new Set(['-l', '--log-level', '--context']);

/**
 * `cidrpool -c FILE get ippool` as calicoctl takes it: -c/--config given before the command is
 * moved behind it, where each datastore command declares it. Returns the argv to parse.
 */
export function hoistConfigOption(argv: readonly string[]): string[] {
  const rest = [...argv];
  const moved: string[] = [];
  for (let i = 0; i < rest.length;) {
    const arg = rest[i]!;
    if (!arg.startsWith('-') || arg === '--') break; // the command name: options end here
    if (arg === '-c' || arg === '--config') {
      moved.push('--config', ...rest.splice(i, 2).slice(1));
    } else if (arg.startsWith('--config=') || (arg.startsWith('-c') && arg.length > 2)) {
      rest.splice(i, 1);
      moved.push('--config', arg.startsWith('--config=') ? arg.slice(9) : arg.slice(2));
    } else i += ROOT_VALUE_OPTIONS.has(arg) ? 2 : 1;
  }
  return [...rest, ...moved];
}

/** Run the CLI on `argv` (without node and script) and exit with its status. */
export async function main(argv: string[]): Promise<void> {
  let code = 0;
  if (!applyLogLevel(argv)) code = 1;
  else {
    try {
      await buildProgram().parseAsync(hoistConfigOption(argv), { from: 'user' });
    } catch (err) {
      code = 1;
      if (err instanceof CommanderError) {
        // --help and --version exit 0; usage errors were already printed by commander.
        code = err.exitCode === 0 ? 0 : 1;
      } else if (err instanceof CidrpoolError) {
        if (err.message !== '') writeErr(formatError(err));
      } else {
        // A TypeError and its kin mean a bug or stored data no check expected: say so, in one
        // line, and keep the stack for CIDRPOOL_DEBUG.
        const internal =
          err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
        const debug = Boolean(process.env.CIDRPOOL_DEBUG);
        if (!internal) writeErr(formatError(err));
        else
          writeErr(
            `internal error: ${errorMessage(err)}${debug ? '' : ' (CIDRPOOL_DEBUG=1 shows where)'}\n`,
          );
        if (debug) writeErr(`${(err as Error)?.stack ?? ''}\n`);
      }
    }
  }
  await flushStreams();
  // Exit explicitly: an etcd client may keep timers alive after its last call.
  process.exit(code);
}
