// The node's interfaces and addresses as the kernel reports them (`ip -j addr show`), for address
// autodetection, the parent device of the VXLAN tunnel and the host MTU.
import type { IpFamily } from '../net/index.js';
import { runToolJson } from './run-tool.js';

/** One address of an interface. */
export interface InterfaceAddress {
  readonly family: IpFamily;
  readonly ip: string;
  readonly prefix: number;
  /** `global`, `link`, `host`. */
  readonly scope: string;
}

/** One interface with its addresses. */
export interface InterfaceInfo {
  readonly name: string;
  readonly mtu: number;
  /** Administratively up with carrier (flag LOWER_UP, or operstate UP/UNKNOWN). */
  readonly up: boolean;
  readonly loopback: boolean;
  readonly addresses: readonly InterfaceAddress[];
}

interface IpAddrJson {
  ifname: string;
  mtu: number;
  flags?: string[];
  operstate?: string;
  link_type?: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

/**
 * Every interface of this network namespace with its addresses.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
export async function readInterfaces(): Promise<InterfaceInfo[]> {
  const links = await runToolJson<IpAddrJson>('ip', ['-j', 'addr', 'show']);
  return links.map((link) => ({
    name: link.ifname,
    mtu: link.mtu,
    up: (link.flags ?? []).includes('UP') && (link.flags ?? []).includes('LOWER_UP'),
    loopback: link.link_type === 'loopback',
    addresses: (link.addr_info ?? [])
      .filter((a) => a.family === 'inet' || a.family === 'inet6')
      .map((a) => ({
        family: a.family === 'inet' ? 4 : 6,
        ip: a.local,
        prefix: a.prefixlen,
        scope: a.scope,
      })),
  }));
}

/**
 * The interface and source address the kernel would use to reach `destination`, or undefined
 * when it has no route (`ip -j route get`).
 */
export async function routeSourceTo(
  destination: string,
): Promise<{ device: string; source?: string } | undefined> {
  try {
    const [route] = await runToolJson<{ dev?: string; prefsrc?: string }>('ip', [
      '-j',
      'route',
      'get',
      destination,
    ]);
    return route?.dev ? { device: route.dev, source: route.prefsrc } : undefined;
  } catch {
    return undefined; // "Network is unreachable": no route
  }
}
