// Who may read the dashboard: the listen address, the bearer token, and the checks of a request.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { CidrpoolError, fileErrorMessage } from '../errors/index.js';

export const DEFAULT_LISTEN = '127.0.0.1:9180';
const MIN_TOKEN_LENGTH = 16;

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly loopback: boolean;
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost` are loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Parse `ADDR:PORT` (`[v6]:PORT` for IPv6; port 0 picks a free one). Throws HTTP_LISTEN naming the
 * value and the expected form.
 */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535 || (host !== 'localhost' && isIP(host) === 0)) {
    throw new CidrpoolError(
      'HTTP_LISTEN',
      `--listen "${text}" is not ADDR:PORT; use e.g. ${DEFAULT_LISTEN}, 0.0.0.0:9180 or [::1]:9180`,
    );
  }
  return { host, port, loopback: isLoopbackHost(host) };
}

/**
 * The token of `--token-file`: its first line, trimmed. Throws HTTP_TOKEN_FILE when the file
 * cannot be read or the token is shorter than 16 characters.
 */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CidrpoolError('HTTP_TOKEN_FILE', fileErrorMessage('open', path, err), { cause: err });
  }
  const token = (text.split('\n', 1)[0] ?? '').trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new CidrpoolError(
      'HTTP_TOKEN_FILE',
      `--token-file ${path}: the token on its first line has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH}, e.g. from: head -c 32 /dev/urandom | base64 > ${path}`,
    );
  }
  return token;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A check of `Authorization: Bearer <token>` headers in constant time: both sides are hashed
 * first, so neither the length nor a prefix of the token leaks through timing.
 */
export function bearerChecker(
  token: string,
): (header: string | undefined) => 'ok' | 'missing' | 'wrong' {
  const expected = digest(token);
  return (header) => {
    const m = header === undefined ? undefined : /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) return 'missing';
    return timingSafeEqual(digest(m[1]!.trim()), expected) ? 'ok' : 'wrong';
  };
}

/**
 * Without a token, the dashboard trusts whoever reaches the loopback port; a web page elsewhere
 * could still reach it through a DNS name that resolves to 127.0.0.1 (DNS rebinding). Such a
 * request carries that name in its Host header: only loopback names and addresses pass.
 */
export function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(hostHeader);
  const host = m?.[1] ?? m?.[2];
  return host !== undefined && isLoopbackHost(host);
}
