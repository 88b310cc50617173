// The WorkloadEndpoint written on ADD and removed on DEL (surfaces.md §3.3), so that
// `cidrpool get wep -A` lists pods and `ipam check` can match allocations to endpoints.
import { CidrpoolError } from '../errors/index.js';
import { API_VERSION_V3, type WorkloadEndpoint } from '../resources/types.js';
import type { Workload } from './handle.js';

/** Calico's name escaping: each `-` inside a segment is doubled so `-` can join segments. */
const escapeSegment = (segment: string): string => segment.replace(/-/g, '--');

/**
 * `<node>-k8s-<pod>-<iface>` for pods, `<node>-cni-<containerID>-<iface>` otherwise, with `-`
 * doubled inside each segment (libcalico-go/lib/names, WorkloadEndpointIdentifiers).
 */
export function endpointNameOf(node: string, workload: Workload, ifName: string): string {
  const middle =
    workload.orchestrator === 'k8s' ? ['k8s', workload.pod!] : ['cni', workload.containerId];
  return [node, ...middle, ifName].map(escapeSegment).join('-');
}

/** `10.0.0.5/26` -> `10.0.0.5/32` (Calico stores single addresses on the endpoint). */
export function toHostNetwork(address: string): string {
  const ip = address.split('/')[0]!;
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
}

/**
 * Calico's NAT entries for floating IPs: an external address containing `:` maps to the pod's
 * IPv6 address, any other to its IPv4 address. Throws CNI_BAD_ANNOTATION when the pod has no
 * address of that family (Calico would write "<nil>").
 */
function ipNatsOf(
  floatingIps: readonly string[],
  addresses: readonly string[],
): { internalIP: string; externalIP: string }[] {
  const ipOf = (v6: boolean) =>
    addresses.map((a) => a.split('/')[0]!).find((ip) => ip.includes(':') === v6);
  return floatingIps.map((externalIP) => {
    const v6 = externalIP.includes(':');
    const internalIP = ipOf(v6);
    if (internalIP === undefined) {
      throw new CidrpoolError(
        'CNI_BAD_ANNOTATION',
        `floating IP ${externalIP} needs an IPv${v6 ? 6 : 4} address on the pod, and it has none`,
        {
          details: {
            annotation: 'cni.projectcalico.org/floatingIPs',
            hint: `assign an IPv${v6 ? 6 : 4} address to the pod (assign_ipv${v6 ? 6 : 4} or ipFamilies) or remove ${externalIP} from the floatingIPs annotation`,
          },
        },
      );
    }
    return { internalIP, externalIP };
  });
}

/** The endpoint for an ADD that was assigned `addresses` (any mask). */
export function buildWorkloadEndpoint(options: {
  readonly node: string;
  readonly workload: Workload;
  readonly ifName: string;
  readonly network: string;
  readonly addresses: readonly string[];
  /** Pod labels from the Kubernetes API, when read. */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** The pod's floatingIPs: each maps to the pod's address of its family (`:` means IPv6). */
  readonly floatingIps?: readonly string[];
  readonly creationTimestamp: string;
}): WorkloadEndpoint {
  const { node, workload, ifName, network } = options;
  const k8s = workload.orchestrator === 'k8s';
  return {
    apiVersion: API_VERSION_V3,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: endpointNameOf(node, workload, ifName),
      namespace: workload.namespace,
      labels: {
        ...(options.podLabels ?? {}),
        'projectcalico.org/namespace': workload.namespace,
        'projectcalico.org/orchestrator': workload.orchestrator,
      },
      creationTimestamp: options.creationTimestamp,
    },
    spec: {
      orchestrator: workload.orchestrator,
      workload: k8s ? undefined : workload.containerId,
      node,
      containerID: workload.containerId,
      pod: k8s ? workload.pod : undefined,
      endpoint: ifName,
      ipNetworks: options.addresses.map(toHostNetwork),
      ...(options.floatingIps?.length
        ? { ipNATs: ipNatsOf(options.floatingIps, options.addresses) }
        : {}),
      // Calico's profiles: the namespace profile for pods, the network name for plain CNI.
      profiles: k8s ? [`kns.${workload.namespace}`] : [network],
    },
  };
}
