// The keys of Calico's `calico` plugin config that shape the pod's interface (surfaces.md §3.1),
// read from the raw network config next to what ../config.ts already parsed.
import { readFileSync } from 'node:fs';
import { CidrpoolError, type FieldIssue, formatFieldIssue } from '../../errors/index.js';
import { tryParseCidr } from '../../net/index.js';
import type { NetConf } from '../config.js';

/** What the pod plugin needs beyond the shared NetConf. */
export interface PodConf {
  /** Both veth ends; `mtu`, else /var/lib/calico/mtu (written by calico/node), else 1500. */
  readonly mtu: number;
  /** `num_queues`: TX and RX queues of both veth ends (default 1). */
  readonly numQueues: number;
  /** `container_settings.allow_ip_forwarding`: ip_forward inside the pod. */
  readonly allowIpForwarding: boolean;
  /** Routes inside the pod, via the gateway: `ipam.routes[].dst`, else the default routes. */
  readonly routes: readonly string[];
}

/** Calico's MTU file: calico/node writes the MTU the encapsulation leaves for pods. */
export const CALICO_MTU_FILE = '/var/lib/calico/mtu';
const DEFAULT_MTU = 1500;
const DEFAULT_ROUTES = ['0.0.0.0/0', '::/0'];

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function mtuFromFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined; // no calico/node on this host: the default applies
  }
  const mtu = Number(text);
  return Number.isInteger(mtu) && mtu > 0 ? mtu : undefined;
}

/**
 * Read `mtu`, `num_queues`, `include_default_routes`, `container_settings` and `ipam.routes`.
 * Throws CNI_INVALID_CONFIG naming every bad key. `mtuFile` is for tests.
 */
export function parsePodConf(conf: NetConf, mtuFile = CALICO_MTU_FILE): PodConf {
  const raw = conf.raw;
  const issues: FieldIssue[] = [];
  const integer = (key: string, min: number, max: number, example: string) => {
    const v = raw[key];
    if (v === undefined || v === null || v === 0) return undefined; // Go's zero value: unset
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      issues.push({
        path: key,
        value: v,
        message: `must be an integer from ${min} to ${max}`,
        hint: `e.g. "${key}": ${example} (a JSON number)`,
      });
      return undefined;
    }
    return v;
  };
  const mtu = integer('mtu', 68, 65535, '1450');
  const numQueues = integer('num_queues', 1, 1024, '1');

  const settings = raw.container_settings;
  let allowIpForwarding = false;
  if (isObject(settings) && settings.allow_ip_forwarding !== undefined) {
    if (typeof settings.allow_ip_forwarding === 'boolean')
      allowIpForwarding = settings.allow_ip_forwarding;
    else
      issues.push({
        path: 'container_settings.allow_ip_forwarding',
        value: settings.allow_ip_forwarding,
        message: 'must be a JSON boolean',
      });
  }
  const includeDefault = raw.include_default_routes;
  if (includeDefault !== undefined && typeof includeDefault !== 'boolean') {
    issues.push({
      path: 'include_default_routes',
      value: includeDefault,
      message: 'must be a JSON boolean',
    });
  }

  // Calico's k8s path programs host-local's `ipam.routes` destinations in the pod (via the
  // gateway) instead of the default routes; `include_default_routes` adds the defaults back.
  const configured: string[] = [];
  const ipamRoutes = isObject(raw.ipam) ? raw.ipam.routes : undefined;
  if (Array.isArray(ipamRoutes)) {
    ipamRoutes.forEach((route, i) => {
      const dst = isObject(route) ? route.dst : undefined;
      const cidr = typeof dst === 'string' ? tryParseCidr(dst) : undefined;
      if (typeof dst === 'string' && cidr) configured.push(dst);
      else
        issues.push({
          path: `ipam.routes[${i}].dst`,
          value: dst,
          message: 'must be a CIDR',
          hint: 'e.g. {"dst": "0.0.0.0/0"}',
        });
    });
  }
  if (issues.length > 0) {
    throw new CidrpoolError(
      'CNI_INVALID_CONFIG',
      `failed to load netconf: ${issues.map(formatFieldIssue).join('; ')}`,
      { issues },
    );
  }
  const routes =
    configured.length === 0
      ? DEFAULT_ROUTES
      : includeDefault === true
        ? [...DEFAULT_ROUTES, ...configured]
        : configured;
  return {
    mtu: mtu ?? mtuFromFile(mtuFile) ?? DEFAULT_MTU,
    numQueues: numQueues ?? 1,
    allowIpForwarding,
    routes,
  };
}
