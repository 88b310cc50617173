// The agent's tunnel devices (spec §4.1, §4.4): read `vxlan.calico` / `vxlan-v6.calico` as the
// kernel has them, decide whether they match what is wanted (a mismatch in an attribute the
// kernel cannot change in place means delete and recreate, Felix's `vxlanLinksIncompat`), and
// create, fix or delete them.
import type { IpipDevice, VxlanDevice } from '../dataplane/index.js';
import { runTool, runToolJson, runToolOk } from './run-tool.js';

/** A link as `ip -j -d link show` and `ip -j addr show` describe it. */
export interface LinkState {
  readonly name: string;
  readonly kind?: string;
  readonly mtu: number;
  readonly mac: string;
  readonly up: boolean;
  readonly vxlan?: {
    readonly vni?: number;
    readonly local?: string;
    readonly parent?: string;
    readonly port?: number;
    readonly learning?: boolean;
  };
  /** Non-link-local addresses as CIDR text. */
  readonly addresses: readonly string[];
}

interface LinkJson {
  ifname: string;
  mtu: number;
  address: string;
  flags?: string[];
  linkinfo?: {
    info_kind?: string;
    info_data?: {
      id?: number;
      local?: string;
      local6?: string;
      link?: string;
      port?: number;
      learning?: boolean;
    };
  };
  addr_info?: { local: string; prefixlen: number; scope: string }[];
}

/**
 * The link called `name`, or undefined when there is none.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED (other than "does not exist"), KERNEL_TOOL_MISSING
 */
export async function readLink(name: string): Promise<LinkState | undefined> {
  const out = await runTool('ip', ['-j', '-d', 'addr', 'show', 'dev', name]);
  if (out.code !== 0) {
    if (/does not exist|Cannot find device/.test(out.stderr)) return undefined;
    await runToolOk('ip', ['-j', '-d', 'addr', 'show', 'dev', name]); // throws with the reason
  }
  const [link] = JSON.parse(out.stdout || '[]') as LinkJson[];
  if (!link) return undefined;
  const data = link.linkinfo?.info_data;
  return {
    name: link.ifname,
    kind: link.linkinfo?.info_kind,
    mtu: link.mtu,
    mac: link.address,
    up: (link.flags ?? []).includes('UP'),
    vxlan:
      link.linkinfo?.info_kind === 'vxlan'
        ? {
            vni: data?.id,
            local: data?.local ?? data?.local6,
            parent: data?.link,
            port: data?.port,
            learning: data?.learning,
          }
        : undefined,
    addresses: (link.addr_info ?? [])
      .filter((a) => a.scope !== 'link')
      .map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/** Why an existing link cannot become `wanted` in place, or undefined when it can. */
export function vxlanIncompatibility(actual: LinkState, wanted: VxlanDevice): string | undefined {
  if (actual.kind !== 'vxlan') return `it is a ${actual.kind ?? 'plain'} link, not vxlan`;
  const v = actual.vxlan ?? {};
  if (v.vni !== wanted.vni) return `VNI ${v.vni} is not ${wanted.vni}`;
  if (v.port !== wanted.port) return `port ${v.port} is not ${wanted.port}`;
  if (v.local !== wanted.local) return `local ${v.local} is not ${wanted.local}`;
  if (v.parent !== undefined && v.parent !== wanted.parent)
    return `parent ${v.parent} is not ${wanted.parent}`;
  if (v.learning) return 'learning is on';
  if (actual.mac.toLowerCase() !== wanted.mac) return `MAC ${actual.mac} is not ${wanted.mac}`;
  return undefined;
}

/** The commands that create `wanted` from nothing. */
export function vxlanCreateArgs(wanted: VxlanDevice): string[] {
  return [
    'link',
    'add',
    wanted.name,
    'address',
    wanted.mac,
    'type',
    'vxlan',
    'id',
    String(wanted.vni),
    'local',
    wanted.local,
    'dev',
    wanted.parent,
    'dstport',
    String(wanted.port),
    'nolearning',
  ];
}

/**
 * Leave `wanted` (when given) as the only address of `device`. The new address goes on before
 * the old ones come off: when a device loses its last IPv4 address the kernel flushes every
 * route through it, so the other order would silently drop all tunnel routes (seen when a
 * node's tunnel address moved to a borrowed one, T9).
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
async function setAddress(
  device: string,
  actual: readonly string[],
  wanted: string | undefined,
  nodad: boolean,
): Promise<void> {
  if (wanted && !actual.includes(wanted)) {
    const args = ['addr', 'add', wanted, 'dev', device];
    await runToolOk('ip', nodad ? [...args, 'nodad'] : args);
  }
  for (const address of actual) {
    if (address !== wanted) await runToolOk('ip', ['addr', 'del', address, 'dev', device]);
  }
}

/**
 * Make the link `wanted.name` match `wanted`: create it, or delete and recreate it when an
 * attribute differs that cannot change in place; then MTU, address and up. Returns whether the
 * link was (re)created (its routes, FDB and neighbours are then gone).
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
export async function ensureVxlanDevice(
  wanted: VxlanDevice,
  log: (message: string, fields: Record<string, unknown>) => void,
): Promise<boolean> {
  let actual = await readLink(wanted.name);
  let created = false;
  const why = actual && vxlanIncompatibility(actual, wanted);
  if (actual && why) {
    log('recreating the VXLAN device', { device: wanted.name, reason: why });
    await runToolOk('ip', ['link', 'del', wanted.name]);
    actual = undefined;
  }
  if (!actual) {
    await runToolOk('ip', vxlanCreateArgs(wanted));
    created = true;
    actual = await readLink(wanted.name);
  }
  if (!actual) return created;
  if (actual.mtu !== wanted.mtu)
    await runToolOk('ip', ['link', 'set', wanted.name, 'mtu', String(wanted.mtu)]);
  await setAddress(wanted.name, actual.addresses, wanted.address, wanted.family === 6);
  if (!actual.up) await runToolOk('ip', ['link', 'set', wanted.name, 'up']);
  return created;
}

/**
 * Delete the link `name` when it exists. Returns whether it existed.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
export async function deleteLink(name: string): Promise<boolean> {
  if (!(await readLink(name))) return false;
  await runToolOk('ip', ['link', 'del', name]);
  return true;
}

/**
 * Make `tunl0` match `wanted` (§4.4). On a kernel without the ipip module the link cannot be
 * created: returns false with the kernel's reason, and the caller leaves IPIP routes out.
 * @throws CidrpoolError KERNEL_TOOL_MISSING
 */
export async function ensureIpipDevice(
  wanted: IpipDevice,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let actual = await readLink(wanted.name);
  if (!actual) {
    const out = await runTool('ip', ['link', 'add', wanted.name, 'type', 'ipip']);
    if (out.code !== 0 && !/File exists/.test(out.stderr))
      return { ok: false, reason: out.stderr.trim() };
    actual = await readLink(wanted.name);
    if (!actual) return { ok: false, reason: 'tunl0 did not appear after it was created' };
  }
  try {
    if (actual.mtu !== wanted.mtu)
      await runToolOk('ip', ['link', 'set', wanted.name, 'mtu', String(wanted.mtu)]);
    await setAddress(wanted.name, actual.addresses, wanted.address, false);
    if (!actual.up) await runToolOk('ip', ['link', 'set', wanted.name, 'up']);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true };
}

/** The devices present in this namespace, by name (for routes that need one). */
export async function linkNames(): Promise<Set<string>> {
  const links = await runToolJson<{ ifname: string }>('ip', ['-j', 'link', 'show']);
  return new Set(links.map((l) => l.ifname));
}
