// grpc-js (1.14, channel-credentials.js getConnectionOptions) sets the TLS server name to the
// endpoint's host even when that host is an IP address, which RFC 6066 forbids; Node then
// prints its DEP0123 warning to stderr before the first answer of every process that talks
// to `https://127.0.0.1:2379`. The certificate is checked against the address (its IP SANs)
// either way, and grpc-js has no option to leave the server name out for an IP host, so this
// adapter drops that one warning, only when an endpoint is an IP literal over TLS.
import { isIP } from 'node:net';

let installed = false;

/** Host of an `https://host:port` endpoint, without IPv6 brackets. */
const hostOf = (endpoint: string): string => {
  try {
    return new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
};

/** True when some endpoint is `https://<IP address>`: grpc-js would send it as server name. */
export function usesIpServerName(endpoints: readonly string[]): boolean {
  return endpoints.some((e) => e.startsWith('https://') && isIP(hostOf(e)) !== 0);
}

/** Drop Node's DEP0123 warning (TLS server name is an IP address) for this process, once. */
export function silenceIpServerNameWarning(): void {
  if (installed) return;
  installed = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const options = rest[0];
    const code =
      typeof options === 'object' && options !== null
        ? (options as { code?: string }).code
        : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}
