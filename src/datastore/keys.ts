// Calico's etcd v3 key layout (ipam-core.md §2.2-2.4), byte for byte.
import type { IpFamily } from '../net/index.js';
import { KINDS, type ResourceKind } from '../resources/types.js';

export const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';
export const BLOCKS_PREFIX = '/calico/ipam/v2/assignment/';
export const HANDLES_PREFIX = '/calico/ipam/v2/handle/';
export const IPAM_CONFIG_KEY = '/calico/ipam/v2/config';

export type AffinityType = 'host' | 'virtual';

const ipv = (family: IpFamily): string => `ipv${family}`;
/** `10.0.0.0/26` -> `10.0.0.0-26`; IPv6 colons stay (`fd00::-122`). */
export const cidrToKeySegment = (cidr: string): string => cidr.replace('/', '-');
/** `10.0.0.0-26` -> `10.0.0.0/26` (the last `-` is the prefix separator). */
export function keySegmentToCidr(segment: string): string {
  const at = segment.lastIndexOf('-');
  return at < 0 ? segment : `${segment.slice(0, at)}/${segment.slice(at + 1)}`;
}

/** Prefix of every resource of a kind; for namespaced kinds optionally one namespace. */
export function resourcePrefix(kind: ResourceKind, namespace?: string): string {
  const base = `${RESOURCES_PREFIX}${KINDS[kind].plural}/`;
  return KINDS[kind].namespaced && namespace ? `${base}${namespace}/` : base;
}

/** `/calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>` */
export function resourceKey(kind: ResourceKind, name: string, namespace?: string): string {
  if (KINDS[kind].namespaced) return `${resourcePrefix(kind, namespace ?? 'default')}${name}`;
  return `${resourcePrefix(kind)}${name}`;
}

/** `/calico/ipam/v2/assignment/ipv4/` (or all families without an argument). */
export const blocksPrefix = (family?: IpFamily): string =>
  family ? `${BLOCKS_PREFIX}${ipv(family)}/block/` : BLOCKS_PREFIX;

/** `/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26` */
export const blockKey = (family: IpFamily, cidr: string): string =>
  `${blocksPrefix(family)}${cidrToKeySegment(cidr)}`;

/** The block CIDR text of a block key, or undefined for another key. */
export function blockCidrFromKey(key: string): string | undefined {
  const m = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\/(.+)$/.exec(key);
  return m ? keySegmentToCidr(m[1]!) : undefined;
}

/** `/calico/ipam/v2/<type>/` : every affinity of one type (Calico lists `host/` only). */
export const affinityTypePrefix = (type: AffinityType = 'host'): string => `${IPAM_PREFIX}${type}/`;

/** `/calico/ipam/v2/<type>/<host>/ipv4/block/` */
export const hostAffinityPrefix = (host: string, family: IpFamily, type: AffinityType = 'host') =>
  `${affinityTypePrefix(type)}${host}/${ipv(family)}/block/`;

/** `/calico/ipam/v2/host/node1/ipv4/block/10.244.166.128-26` */
export const affinityKey = (
  host: string,
  family: IpFamily,
  cidr: string,
  type: AffinityType = 'host',
): string => `${hostAffinityPrefix(host, family, type)}${cidrToKeySegment(cidr)}`;

/** Parse an affinity key into its parts, or undefined for another key. */
export function parseAffinityKey(
  key: string,
): { type: AffinityType; host: string; family: IpFamily; cidr: string } | undefined {
  const m = /^\/calico\/ipam\/v2\/(host|virtual)\/(.+)\/ipv([46])\/block\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  return {
    type: m[1] as AffinityType,
    host: m[2]!,
    family: Number(m[3]) as IpFamily,
    cidr: keySegmentToCidr(m[4]!),
  };
}

/** `/calico/ipam/v2/handle/<id>` with the id as given. */
export const handleKey = (handleId: string): string => `${HANDLES_PREFIX}${handleId}`;

/** Legacy per-host key that RemoveIPAMHost deletes. */
export const legacyHostKey = (host: string): string => `${IPAM_PREFIX}host/${host}`;
