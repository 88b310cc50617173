// The ADD result JSON, per cniVersion (surfaces.md §3.3; rendered like containernetworking/cni
// v1.3.0: 4-space indent, no trailing newline).
import type { ResultIp, ResultRoute, ShapedResult } from './layout.js';
import { compareVersions } from './versions.js';

/** One assigned address: `10.65.79.2/26` (block mask) or `10.0.0.7/32` (explicit IP). */
export interface AssignedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

const route = (r: ResultRoute) => (r.gw ? { dst: r.dst, gw: r.gw } : { dst: r.dst });

/** Routes of one family: a v4 route's dst has no `:`. */
const routesOf = (routes: readonly ResultRoute[], family: 4 | 6) =>
  routes.filter((r) => r.dst.includes(':') === (family === 6));

/**
 * Build the result object for `cniVersion`: 1.x has `ips` (with `gateway` when the layout has
 * one) and `routes`; 0.3.x and 0.4.0 add `version` to each IP and a trailing `dns: {}`; 0.1.0
 * and 0.2.0 use `ip4` / `ip6`, each with the first address of its family, its gateway and the
 * routes of its family. Empty lists are left out, as Go's `omitempty` does.
 */
export function buildResult(cniVersion: string, shaped: ShapedResult): object {
  const { ips, routes } = shaped;
  if (compareVersions(cniVersion, '0.3.0') < 0) {
    const out: Record<string, unknown> = { cniVersion };
    for (const family of [4, 6] as const) {
      const first = ips.find((a) => a.family === family);
      if (!first) continue;
      const mine = routesOf(routes, family);
      out[`ip${family}`] = {
        ip: first.address,
        ...(first.gateway ? { gateway: first.gateway } : {}),
        ...(mine.length > 0 ? { routes: mine.map(route) } : {}),
      };
    }
    out.dns = {};
    return out;
  }
  const legacy = compareVersions(cniVersion, '1.0.0') < 0;
  const ip = (a: ResultIp) => ({
    ...(legacy ? { version: String(a.family) } : {}),
    address: a.address,
    ...(a.gateway ? { gateway: a.gateway } : {}),
  });
  const out: Record<string, unknown> = { cniVersion };
  if (ips.length > 0) out.ips = ips.map(ip);
  if (routes.length > 0) out.routes = routes.map(route);
  if (legacy) out.dns = {};
  return out;
}

/** Pretty-print like Go's json.MarshalIndent(v, "", "    "): 4 spaces, no trailing newline. */
export function printJson(value: unknown): string {
  return JSON.stringify(value, null, 4);
}

/** The ADD result text for `cniVersion`. */
export function formatResult(cniVersion: string, shaped: ShapedResult): string {
  return printJson(buildResult(cniVersion, shaped));
}
