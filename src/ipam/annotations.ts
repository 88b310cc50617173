// Pod and namespace annotations that steer IPAM (surfaces.md §3.4), shared by the CLI and the
// CNI plugin: pool lists (names or CIDRs), address families and specific addresses.
import { CidrpoolError } from '../errors/index.js';
import { formatIp, tryParseIp } from '../net/index.js';

export const ANNOTATION_PREFIX = 'cni.projectcalico.org/';
export const IPV4_POOLS_ANNOTATION = `${ANNOTATION_PREFIX}ipv4pools`;
export const IPV6_POOLS_ANNOTATION = `${ANNOTATION_PREFIX}ipv6pools`;
export const IP_FAMILIES_ANNOTATION = `${ANNOTATION_PREFIX}ipFamilies`;
export const IP_ADDRS_ANNOTATION = `${ANNOTATION_PREFIX}ipAddrs`;
export const IP_ADDRS_NO_IPAM_ANNOTATION = `${ANNOTATION_PREFIX}ipAddrsNoIpam`;

export interface AnnotationInput {
  readonly podAnnotations?: Readonly<Record<string, string>>;
  readonly namespaceAnnotations?: Readonly<Record<string, string>>;
}

export interface ResolvedAnnotations {
  /** Requested IPv4 pools (names or CIDRs, resolved by the engine). */
  readonly ipv4Pools?: string[];
  readonly ipv6Pools?: string[];
  /** From ipFamilies: which families to assign; undefined when not annotated. */
  readonly families?: { readonly ipv4: boolean; readonly ipv6: boolean };
  /** From the pod's ipAddrs: at most one IPv4 and one IPv6 address, canonical text. */
  readonly ipAddrs?: string[];
  /** From the pod's ipAddrsNoIpam (same format); IPAM is bypassed for these. */
  readonly ipAddrsNoIpam?: string[];
}

const invalid = (message: string, annotation?: string): never => {
  throw new CidrpoolError('IPAM_INVALID_ANNOTATION', message, {
    details: annotation ? { annotation } : {},
  });
};

/** A JSON decode error worded like Go's encoding/json for the usual mistakes. */
export function goJsonError(raw: string): string {
  const text = raw.trim();
  if (text === '') return 'unexpected end of JSON input';
  const c = text[0]!;
  if (!'{["-0123456789tfn'.includes(c))
    return `invalid character '${c}' looking for beginning of value`;
  try {
    JSON.parse(text);
    return 'unexpected JSON value';
  } catch (err) {
    const token = /Unexpected token '?(.)'?,/.exec((err as Error).message);
    if (token) return `invalid character '${token[1]}' looking for beginning of value`;
    const m = /position (\d+)/.exec((err as Error).message);
    if (m) {
      const at = Number(m[1]);
      if (at >= text.length) return 'unexpected end of JSON input';
      return `invalid character '${text[at]}' looking for beginning of value`;
    }
    return 'unexpected end of JSON input';
  }
}

function parseStringList(raw: string, annotation: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return invalid(goJsonError(raw), annotation);
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    return invalid(
      `json: cannot unmarshal ${Array.isArray(value) ? 'number' : typeof value} into Go value of type []string`,
      annotation,
    );
  }
  return value as string[];
}

/** Calico's parseIPAddrs: a JSON list with at most one address per family. */
function parseIpAddrs(raw: string, annotation: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return invalid(
      `failed to parse IPs ${raw} for annotation "${annotation}": failed to parse '${raw}' as JSON: ${goJsonError(raw)}`,
      annotation,
    );
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    return invalid(
      `failed to parse IPs ${raw} for annotation "${annotation}": failed to parse '${raw}' as JSON: json: cannot unmarshal into Go value of type []string`,
      annotation,
    );
  const list = value as string[];
  if (list.length === 0)
    return invalid(`annotation "${annotation}" specified but empty`, annotation);
  let v4 = 0;
  let v6 = 0;
  const out: string[] = [];
  for (const s of list) {
    const ip = tryParseIp(s);
    if (!ip) return invalid(`invalid IP format: ${s}`, annotation);
    if (ip.family === 4 && ++v4 > 1)
      return invalid(
        `cannot have more than one IPv4 address for "${annotation}" annotation`,
        annotation,
      );
    if (ip.family === 6 && ++v6 > 1)
      return invalid(
        `cannot have more than one IPv6 address for "${annotation}" annotation`,
        annotation,
      );
    out.push(formatIp(ip));
  }
  return out;
}

/**
 * Resolve the IPAM annotations of a pod and its namespace. Pool lists and ipFamilies are taken
 * from the namespace unless the pod has a non-empty value for the same key (decided key by key);
 * ipAddrs and ipAddrsNoIpam are read from the pod only.
 * Throws IPAM_INVALID_ANNOTATION with Calico's messages (bad JSON, empty list, bad IP, two
 * addresses of one family, both ipAddrs and ipAddrsNoIpam, unknown family).
 */
export function resolveAnnotations(input: AnnotationInput): ResolvedAnnotations {
  const pod = input.podAnnotations ?? {};
  const ns = input.namespaceAnnotations ?? {};
  const pick = (key: string): string | undefined => {
    const fromPod = pod[key];
    return fromPod !== undefined && fromPod !== '' ? fromPod : ns[key];
  };
  const v4 = pick(IPV4_POOLS_ANNOTATION);
  const v6 = pick(IPV6_POOLS_ANNOTATION);
  const familiesRaw = pick(IP_FAMILIES_ANNOTATION);
  let families: ResolvedAnnotations['families'];
  if (familiesRaw !== undefined) {
    let list: string[] = [];
    try {
      list = parseStringList(familiesRaw, IP_FAMILIES_ANNOTATION);
    } catch {
      invalid(`error parsing ipFamilies: ${familiesRaw}`, IP_FAMILIES_ANNOTATION);
    }
    if (list.some((f) => f !== 'IPv4' && f !== 'IPv6'))
      invalid(`error parsing ipFamilies: ${familiesRaw}`, IP_FAMILIES_ANNOTATION);
    families = { ipv4: list.includes('IPv4'), ipv6: list.includes('IPv6') };
  }
  const addrs = pod[IP_ADDRS_ANNOTATION];
  const noIpam = pod[IP_ADDRS_NO_IPAM_ANNOTATION];
  if (addrs !== undefined && noIpam !== undefined)
    invalid("can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time");
  return {
    ...(v4 !== undefined ? { ipv4Pools: parseStringList(v4, IPV4_POOLS_ANNOTATION) } : {}),
    ...(v6 !== undefined ? { ipv6Pools: parseStringList(v6, IPV6_POOLS_ANNOTATION) } : {}),
    ...(families ? { families } : {}),
    ...(addrs !== undefined ? { ipAddrs: parseIpAddrs(addrs, IP_ADDRS_ANNOTATION) } : {}),
    ...(noIpam !== undefined
      ? { ipAddrsNoIpam: parseIpAddrs(noIpam, IP_ADDRS_NO_IPAM_ANNOTATION) }
      : {}),
  };
}
