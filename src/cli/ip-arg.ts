// --ip values: calicoctl prints a bad one on stdout as "Error executing command: ..." (exit 1).
import { CidrpoolError } from '../errors/index.js';
import { formatIp, tryParseIp } from '../net/index.js';
import { writeOut } from './io.js';

/** The canonical text of an --ip value; a bad value is reported calicoctl's way and throws. */
export function parseIpArg(text: string): string {
  const ip = tryParseIp(text.trim());
  if (!ip) {
    writeOut(`Error executing command: invalid IP address specified: ${text}\n`);
    throw new CidrpoolError('CLI_INVALID_IP', '');
  }
  return formatIp(ip);
}
