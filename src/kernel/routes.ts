// Main-table routes: read the ones the agent owns (`ip -j route`), and write changes as lines of
// one `ip -batch` run. Ownership follows Felix (ownershippol/main_route_table_policy.go, spec
// §3.8): a route is the agent's when its protocol is Calico's (80) or its device is one of the
// agent's tunnel devices. Nothing else in the table is read into the diff, so nothing else is
// ever deleted.
import { canonicalCidrText, type ActualRoute, type KernelRoute } from '../dataplane/index.js';
import type { IpFamily } from '../net/index.js';
import { runToolJson } from './run-tool.js';

/** Route protocol names `ip -j` prints, as numbers (rt_protos). */
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  ra: 9,
  dhcp: 16,
  bird: 12,
  zebra: 11,
};

interface IpRouteJson {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  flags?: string[];
  metrics?: { mtu?: number }[];
}

/** What makes a route the agent's. */
export interface RouteOwnership {
  /** Protocols that are exclusively the agent's (80). */
  readonly protocols: readonly number[];
  /** Devices whose routes are all the agent's (`vxlan.calico`, `vxlan-v6.calico`). */
  readonly devices: readonly string[];
}

function protocolNumber(text: string | undefined): number {
  if (text === undefined) return 3;
  const n = Number(text);
  return Number.isInteger(n) ? n : (PROTOCOL_NUMBERS[text] ?? -1);
}

/** One `ip -j route` entry as an ActualRoute, or undefined for one the model never programs. */
export function parseRoute(json: IpRouteJson, family: IpFamily): ActualRoute | undefined {
  const type = json.type ?? 'unicast';
  if ((type !== 'unicast' && type !== 'blackhole') || json.dst === 'default') return undefined;
  const mtu = json.metrics?.find((m) => m.mtu !== undefined)?.mtu;
  return {
    family,
    dst: canonicalCidrText(json.dst),
    type,
    gateway: json.gateway,
    device: json.dev,
    onlink: (json.flags ?? []).includes('onlink'),
    protocol: protocolNumber(json.protocol),
    scope: json.scope === 'link' ? 'link' : 'global',
    mtu,
    metric: json.metric,
  };
}

/**
 * The owned routes of one family in the main table.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
export async function readOwnedRoutes(
  family: IpFamily,
  ownership: RouteOwnership,
): Promise<ActualRoute[]> {
  const json = await runToolJson<IpRouteJson>('ip', [
    `-${family}`,
    '-j',
    'route',
    'show',
    'table',
    'main',
  ]);
  const owned: ActualRoute[] = [];
  for (const entry of json) {
    const route = parseRoute(entry, family);
    if (!route) continue;
    const byProtocol = ownership.protocols.includes(route.protocol);
    const byDevice = route.device !== undefined && ownership.devices.includes(route.device);
    if (byProtocol || byDevice) owned.push(route);
  }
  return owned;
}

/** The `ip -batch` line that installs `route` (or overwrites the route at its destination). */
export function routeReplaceLine(route: KernelRoute): string {
  const parts = ['route', 'replace'];
  if (route.type === 'blackhole') parts.push('blackhole');
  parts.push(route.dst);
  if (route.gateway) parts.push('via', route.gateway);
  if (route.device) parts.push('dev', route.device);
  if (route.onlink) parts.push('onlink');
  parts.push('proto', String(route.protocol));
  if (route.scope === 'link') parts.push('scope', 'link');
  if (route.mtu !== undefined) parts.push('mtu', String(route.mtu));
  return parts.join(' ');
}

/** The `ip -batch` line that deletes exactly `route` (type, device, protocol and metric). */
export function routeDeleteLine(route: ActualRoute | KernelRoute): string {
  const parts = ['route', 'del'];
  if (route.type === 'blackhole') parts.push('blackhole');
  parts.push(route.dst);
  if (route.device) parts.push('dev', route.device);
  parts.push('proto', String(route.protocol));
  const metric = (route as ActualRoute).metric;
  if (metric !== undefined) parts.push('metric', String(metric));
  return parts.join(' ');
}
