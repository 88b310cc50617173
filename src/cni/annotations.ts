// Calico's cni.projectcalico.org annotations that steer IPAM (surfaces.md §3.4). Calico's main
// plugin reads them and rewrites the IPAM config; as a standalone IPAM plugin we do both steps.
// The parsing itself is shared with the CLI (src/ipam/annotations.ts).
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { goJsonError, resolveAnnotations } from '../ipam/annotations.js';
import type { IpamSection } from './config.js';
import type { CallContext } from './context.js';
import type { PodInfo } from './pod-info.js';

type Annotations = Readonly<Record<string, string>>;

/** What the annotations ask for. */
export interface AnnotationRequest {
  /** The IPAM section with pools and families replaced as the annotations say. */
  readonly ipam: IpamSection;
  /** `ipAddrs`: these exact addresses (at most one per family), through IPAM. */
  readonly ipAddrs?: readonly string[];
  /** `ipAddrsNoIpam`: these addresses, bypassing IPAM entirely. */
  readonly ipAddrsNoIpam?: readonly string[];
  /** `floatingIPs` (with feature_control.floating_ips): NAT entries for the endpoint. */
  readonly floatingIps?: readonly string[];
}

const FLOATING_IPS = 'cni.projectcalico.org/floatingIPs';

/** Calico reads an annotation whose value is empty as absent (`len(value) != 0` checks). */
const withoutEmpty = (annotations: Annotations): Annotations =>
  Object.fromEntries(Object.entries(annotations).filter(([, v]) => v !== ''));

const EXAMPLES: Readonly<Record<string, string>> = {
  'cni.projectcalico.org/ipv4pools': `'["10.65.0.0/16","pool-b"]'`,
  'cni.projectcalico.org/ipv6pools': `'["fd00:65::/64"]'`,
  'cni.projectcalico.org/ipFamilies': `'["IPv4","IPv6"]'`,
  'cni.projectcalico.org/ipAddrs': `'["192.168.0.1"]'`,
  'cni.projectcalico.org/ipAddrsNoIpam': `'["192.168.0.1"]'`,
};

/**
 * Apply namespace then pod annotations to the IPAM section (per key, a non-empty pod value wins).
 * Throws CNI_BAD_ANNOTATION with Calico's message and, in `details`, which object carries the
 * bad annotation and an example; CNI_INVALID_CONFIG when ipAddrsNoIpam is used without
 * feature_control.ip_addrs_no_ipam.
 */
export function applyAnnotations(options: {
  readonly ipam: IpamSection;
  readonly namespaceName: string;
  readonly namespaceAnnotations: Annotations;
  readonly podName: string;
  readonly podAnnotations: Annotations;
  readonly ipAddrsNoIpamEnabled: boolean;
  readonly floatingIpsEnabled: boolean;
}): AnnotationRequest {
  const pod = withoutEmpty(options.podAnnotations);
  const ns = withoutEmpty(options.namespaceAnnotations);
  if (Object.keys(pod).length === 0 && Object.keys(ns).length === 0) return { ipam: options.ipam };
  let resolved;
  try {
    resolved = resolveAnnotations({ podAnnotations: pod, namespaceAnnotations: ns });
  } catch (err) {
    if (!isCidrpoolError(err)) throw err;
    const annotation =
      typeof err.details.annotation === 'string' ? err.details.annotation : undefined;
    // A key the pod does not set came from the namespace.
    const where =
      annotation && !pod[annotation]
        ? `namespace ${options.namespaceName}`
        : `pod ${options.namespaceName}/${options.podName}`;
    const example = annotation ? EXAMPLES[annotation] : undefined;
    throw new CidrpoolError('CNI_BAD_ANNOTATION', err.message, {
      cause: err,
      details: {
        annotation,
        hint: annotation
          ? `fix annotation "${annotation}" on ${where}${example ? `, e.g. ${example}` : ''}`
          : `fix the cni.projectcalico.org annotations on ${where}`,
      },
    });
  }
  if (resolved.ipAddrsNoIpam && !options.ipAddrsNoIpamEnabled) {
    throw new CidrpoolError(
      'CNI_INVALID_CONFIG',
      'requested feature is not enabled: ip_addrs_no_ipam',
      {
        details: { hint: 'set feature_control.ip_addrs_no_ipam to true in the network config' },
      },
    );
  }
  let ipam = options.ipam;
  if (resolved.ipv4Pools) ipam = { ...ipam, ipv4Pools: resolved.ipv4Pools };
  if (resolved.ipv6Pools) ipam = { ...ipam, ipv6Pools: resolved.ipv6Pools };
  if (resolved.families) {
    ipam = { ...ipam, assignIpv4: resolved.families.ipv4, assignIpv6: resolved.families.ipv6 };
  }
  // After the address annotations, as in Calico (which checks it once IPAM has answered).
  const floatingIps = parseFloatingIps(pod[FLOATING_IPS], options);
  return { ipam, ipAddrs: resolved.ipAddrs, ipAddrsNoIpam: resolved.ipAddrsNoIpam, floatingIps };
}

/** How Go's encoding/json names a JSON value's type in "cannot unmarshal" errors. */
const goTypeOf = (v: unknown): string =>
  typeof v === 'boolean'
    ? 'bool'
    : typeof v === 'object'
      ? Array.isArray(v)
        ? 'array'
        : v === null
          ? 'null'
          : 'object'
      : typeof v;

/**
 * The pod's `floatingIPs` annotation, as Calico's main plugin reads it: a JSON list of strings,
 * not checked further. Throws CNI_INVALID_CONFIG without feature_control.floating_ips (Calico
 * releases what it assigned first; we check before assigning, so nothing is held either) and
 * CNI_BAD_ANNOTATION for bad JSON, with Calico's bare message.
 */
function parseFloatingIps(
  raw: string | undefined,
  options: { readonly floatingIpsEnabled: boolean; namespaceName: string; podName: string },
): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!options.floatingIpsEnabled) {
    throw new CidrpoolError(
      'CNI_INVALID_CONFIG',
      'requested feature is not enabled: floating_ips',
      {
        details: { hint: 'set feature_control.floating_ips to true in the network config' },
      },
    );
  }
  let value: unknown;
  let reason: string | undefined;
  try {
    value = JSON.parse(raw);
    const wrong = Array.isArray(value) ? value.find((v) => typeof v !== 'string') : value;
    if (!Array.isArray(value) && value !== null) {
      reason = `json: cannot unmarshal ${goTypeOf(value)} into Go value of type []string`;
    } else if (wrong !== undefined) {
      reason = `json: cannot unmarshal ${goTypeOf(wrong)} into Go value of type string`;
    }
  } catch {
    reason = goJsonError(raw);
  }
  if (reason !== undefined) {
    throw new CidrpoolError('CNI_BAD_ANNOTATION', `failed to parse '${raw}' as JSON: ${reason}`, {
      details: {
        annotation: FLOATING_IPS,
        hint: `fix annotation "${FLOATING_IPS}" on pod ${options.namespaceName}/${options.podName}, e.g. '["1.2.3.4"]'`,
      },
    });
  }
  return (value as string[] | null) ?? [];
}

/**
 * applyAnnotations for a call: its IPAM section and feature switches, the workload's names, and
 * the annotations read from the Kubernetes API. Throws as applyAnnotations.
 */
export function applyCallAnnotations(ctx: CallContext, podInfo: PodInfo): AnnotationRequest {
  return applyAnnotations({
    ipam: ctx.conf.ipam,
    namespaceName: ctx.workload.namespace,
    namespaceAnnotations: podInfo.namespaceAnnotations,
    podName: ctx.workload.pod ?? '',
    podAnnotations: podInfo.podAnnotations,
    ipAddrsNoIpamEnabled: ctx.conf.ipAddrsNoIpam,
    floatingIpsEnabled: ctx.conf.floatingIps,
  });
}
