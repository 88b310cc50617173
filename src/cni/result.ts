// The ADD result JSON, per cniVersion (surfaces.md §3.3; rendered like containernetworking/cni
// v1.3.0: 4-space indent, no trailing newline).
import { compareVersions } from './versions.js';

/** One assigned address: `10.65.79.2/26` (block mask) or `10.0.0.7/32` (explicit IP). */
export interface AssignedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

const route = (a: AssignedAddress) => ({ dst: a.address });

/**
 * Build the result object for `cniVersion`: 1.x has `ips` and `routes`; 0.3.x and 0.4.0 add
 * `version` to each IP and a trailing `dns: {}`; 0.1.0 and 0.2.0 use `ip4` / `ip6`. Calico
 * gives each IP one route whose `dst` is the address with its mask; so do we.
 */
export function buildResult(
  cniVersion: string,
  addresses: readonly AssignedAddress[],
  withRoutes = true,
): object {
  if (compareVersions(cniVersion, '0.3.0') < 0) {
    const out: Record<string, unknown> = { cniVersion };
    for (const family of [4, 6] as const) {
      const mine = addresses.filter((a) => a.family === family);
      if (mine.length === 0) continue;
      out[`ip${family}`] = {
        ip: mine[0]!.address,
        ...(withRoutes ? { routes: mine.map(route) } : {}),
      };
    }
    out.dns = {};
    return out;
  }
  const legacy = compareVersions(cniVersion, '1.0.0') < 0;
  const ips = addresses.map((a) =>
    legacy ? { version: String(a.family), address: a.address } : { address: a.address },
  );
  // Go's `omitempty`: an empty list is left out (e.g. assign_ipv4 "false" without IPv6).
  const out: Record<string, unknown> = { cniVersion };
  if (ips.length > 0) out.ips = ips;
  if (addresses.length > 0 && withRoutes) out.routes = addresses.map(route);
  if (legacy) out.dns = {};
  return out;
}

/** Pretty-print like Go's json.MarshalIndent(v, "", "    "): 4 spaces, no trailing newline. */
export function printJson(value: unknown): string {
  return JSON.stringify(value, null, 4);
}

/** The ADD result text for `cniVersion`. */
export function formatResult(
  cniVersion: string,
  addresses: readonly AssignedAddress[],
  withRoutes = true,
): string {
  return printJson(buildResult(cniVersion, addresses, withRoutes));
}
