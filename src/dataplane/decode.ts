// Datastore values as the dataplane sees them: an IPPool, a Node or an IPAM block, decoded from
// the stored JSON into the small shapes of types.ts. Undecodable values are reported, not thrown:
// one corrupt key must not stop a node's routing.
import { decodeBlock } from '../ipam/model.js';
import {
  addressAt,
  bitsOf,
  formatCidr,
  formatIp,
  isValidPrefix,
  networkOf,
  parseCidrMasked,
  tryParseCidr,
  tryParseIp,
  type IpFamily,
} from '../net/index.js';
import { withDefaults, type IPPool, type Node } from '../resources/index.js';
import type { BlockInfo, HostAddress, NodeInfo, PoolInfo, PoolType } from './types.js';

/** The result of decoding one value: the shape, or why it was skipped. */
export type Decoded<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return new Error(err instanceof Error ? err.message : String(err));
  }
}

/** Felix's pool type (`poolTypeForPool`): LoadBalancer-only NONE, then VXLAN, IPIP, no-encap. */
export function poolTypeOf(spec: IPPool['spec']): PoolType {
  const uses = spec.allowedUses ?? [];
  if (uses.length === 1 && uses[0] === 'LoadBalancer') return 'none';
  if ((spec.vxlanMode ?? 'Never') !== 'Never') return 'vxlan';
  if ((spec.ipipMode ?? 'Never') !== 'Never') return 'ipip';
  return 'noencap';
}

/** An IPPool's stored JSON as a PoolInfo. */
export function decodePool(text: string): Decoded<PoolInfo> {
  const parsed = parseJson(text);
  if (parsed instanceof Error) return fail(`not JSON: ${parsed.message}`);
  const pool = withDefaults(parsed as IPPool);
  const cidr = tryParseCidr(pool.spec.cidr ?? '');
  if (!cidr) return fail(`spec.cidr ${JSON.stringify(pool.spec.cidr)} is not a CIDR`);
  const vxlanMode = pool.spec.vxlanMode ?? 'Never';
  const ipipMode = pool.spec.ipipMode ?? 'Never';
  return {
    ok: true,
    value: {
      name: pool.metadata.name,
      cidr,
      cidrText: pool.spec.cidr,
      type: poolTypeOf(pool.spec),
      vxlanMode,
      ipipMode,
      crossSubnet: vxlanMode === 'CrossSubnet' || ipipMode === 'CrossSubnet',
      natOutgoing: pool.spec.natOutgoing === true,
      disabled: pool.spec.disabled === true,
      terminating: Boolean(pool.metadata.deletionTimestamp),
      nodeSelector: pool.spec.nodeSelector ?? '',
      allowedUses: pool.spec.allowedUses ?? [],
    },
  };
}

/** `192.168.10.11/24` as a host address and its subnet; undefined when absent or malformed. */
export function parseHostAddress(
  text: string | undefined,
  family: IpFamily,
): HostAddress | undefined {
  if (!text) return undefined;
  const [ipText, prefixText] = text.split('/');
  const ip = tryParseIp(ipText ?? '');
  if (!ip || ip.family !== family) return undefined;
  const prefix = prefixText === undefined ? bitsOf(family) : Number(prefixText);
  if (!Number.isInteger(prefix) || !isValidPrefix(family, prefix)) return undefined;
  return { ip, subnet: networkOf(ip, prefix), text };
}

const ipOf = (text: string | undefined, family: IpFamily) => {
  const ip = text ? tryParseIp(text.split('/')[0]!) : undefined;
  return ip && ip.family === family ? ip : undefined;
};

/** A Node's stored JSON as a NodeInfo. */
export function decodeNode(text: string): Decoded<NodeInfo> {
  const parsed = parseJson(text);
  if (parsed instanceof Error) return fail(`not JSON: ${parsed.message}`);
  const node = withDefaults(parsed as Node);
  const spec = node.spec ?? {};
  const bgp = spec.bgp;
  return {
    ok: true,
    value: {
      name: node.metadata.name,
      labels: node.metadata.labels ?? {},
      hasBgp: bgp !== undefined,
      ipv4: parseHostAddress(bgp?.ipv4Address, 4),
      ipv6: parseHostAddress(bgp?.ipv6Address, 6),
      vxlanTunnel4: ipOf(spec.ipv4VXLANTunnelAddr, 4),
      vxlanTunnel6: ipOf(spec.ipv6VXLANTunnelAddr, 6),
      ipipTunnel: ipOf(bgp?.ipv4IPIPTunnelAddr, 4),
      vxlanMac4: spec.vxlanTunnelMACAddr || undefined,
      vxlanMac6: spec.vxlanTunnelMACAddrV6 || undefined,
    },
  };
}

/** The host of a block affinity `host:<node>`, or undefined (`virtual:...`, none). */
export function affinityHost(affinity: string | null): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

/**
 * An IPAM block's stored JSON as a BlockInfo: its host and its borrowed addresses; undefined for
 * a block marked `deleted` (on its way out, it routes nothing).
 */
export function decodeBlockInfo(text: string, key = 'block'): Decoded<BlockInfo | undefined> {
  let block;
  try {
    block = decodeBlock(text, key);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (block.deleted) return { ok: true, value: undefined };
  const cidr = tryParseCidr(block.cidr);
  if (!cidr) return fail(`cidr ${JSON.stringify(block.cidr)} is not a CIDR`);
  const host = affinityHost(block.affinity);
  const borrowed = new Map<string, string>();
  block.allocations.forEach((attrIndex, ordinal) => {
    if (attrIndex === null) return;
    const node = block.attributes[attrIndex]?.secondary?.node;
    if (node && node !== host) {
      borrowed.set(hostCidrText(addressAt(cidr, ordinal)), node);
    }
  });
  return { ok: true, value: { cidr, cidrText: block.cidr, host, borrowed } };
}

/** The canonical /32 (/128) CIDR text of an address. */
export const hostCidrText = (ip: { family: IpFamily; value: bigint }): string =>
  `${formatIp(ip)}/${bitsOf(ip.family)}`;

/** The canonical text of a CIDR given as text (`10.0.0.1` -> `10.0.0.1/32`). */
export const canonicalCidrText = (text: string): string => formatCidr(parseCidrMasked(text));
