// The pod plugin's ADD result per cniVersion (CNI spec "Success"): both veth ends as interfaces,
// the pod's addresses as /32 (/128) on the pod end, the routes programmed in the pod, and the IPAM
// plugin's DNS. Rendered like containernetworking/cni (4-space indent, no trailing newline).
import { printJson } from '../result.js';
import { compareVersions } from '../versions.js';
import type { WiredInterface } from './veth.js';

export interface PodResultInput {
  readonly cniVersion: string;
  readonly wired: WiredInterface;
  readonly ifName: string;
  readonly netns: string;
  /** /32 and /128 */
  readonly addresses: readonly string[];
  /** Destinations routed via the family's gateway in the pod. */
  readonly routes: readonly string[];
  readonly dns?: Readonly<Record<string, unknown>>;
}

const isV6 = (cidr: string): boolean => cidr.includes(':');

/** The result object for the config's cniVersion. */
export function buildPodResult(input: PodResultInput): object {
  const { cniVersion, wired, addresses } = input;
  const gatewayOf = (cidr: string) => (isV6(cidr) ? wired.gateways.v6 : wired.gateways.v4);
  const hasFamily = (v6: boolean) => addresses.some((a) => isV6(a) === v6);
  const routes = input.routes
    .filter((dst) => hasFamily(isV6(dst)) && gatewayOf(dst) !== undefined)
    .map((dst) => ({ dst, gw: gatewayOf(dst)! }));
  const dns = input.dns ?? {};
  if (compareVersions(cniVersion, '0.3.0') < 0) {
    const out: Record<string, unknown> = { cniVersion };
    for (const v6 of [false, true]) {
      const address = addresses.find((a) => isV6(a) === v6);
      if (!address) continue;
      out[v6 ? 'ip6' : 'ip4'] = {
        ip: address,
        gateway: gatewayOf(address),
        routes: routes.filter((r) => isV6(r.dst) === v6),
      };
    }
    out.dns = dns;
    return out;
  }
  const legacy = compareVersions(cniVersion, '1.0.0') < 0;
  const out: Record<string, unknown> = {
    cniVersion,
    interfaces: [
      { name: wired.hostIfName, mac: wired.hostMac },
      { name: input.ifName, mac: wired.podMac, sandbox: input.netns },
    ],
    ips: addresses.map((address) => ({
      ...(legacy ? { version: isV6(address) ? '6' : '4' } : {}),
      address,
      gateway: gatewayOf(address),
      interface: 1,
    })),
  };
  if (routes.length > 0) out.routes = routes;
  if (legacy || Object.keys(dns).length > 0) out.dns = dns;
  return out;
}

/** The result text. */
export function formatPodResult(input: PodResultInput): string {
  return printJson(buildPodResult(input));
}

/**
 * The pod addresses a prevResult lists (any version's shape), as written: `ips[].address` or
 * `ip4.ip` / `ip6.ip`. Undefined when there is no usable prevResult.
 */
export function addressesOfResult(prev: unknown): string[] | undefined {
  if (typeof prev !== 'object' || prev === null) return undefined;
  const p = prev as {
    ips?: { address?: unknown }[];
    ip4?: { ip?: unknown };
    ip6?: { ip?: unknown };
  };
  const raw = Array.isArray(p.ips) ? p.ips.map((ip) => ip?.address) : [p.ip4?.ip, p.ip6?.ip];
  const found = raw.filter((a): a is string => typeof a === 'string' && a.includes('/'));
  return found.length > 0 ? found : undefined;
}
