// The WorkloadEndpoint `ipam assign --pod` writes, named and shaped as Calico's CNI plugin does
// (surfaces.md §3.3), so `get wep -A` and `ipam check` see CLI-assigned pods like CNI ones.
import type { ResourceClient } from '../client/types.js';
import { API_VERSION_V3, type WorkloadEndpoint } from '../resources/types.js';
import { hostInterfaceName } from '../resources/workload-interface.js';

export { hostInterfaceName };

/** Calico's name escaping: each `-` inside a segment is doubled so `-` can join segments. */
const escapeSegment = (segment: string): string => segment.replace(/-/g, '--');

/** `<node>-k8s-<pod>-<iface>`, with `-` doubled inside each segment. */
export const endpointName = (node: string, pod: string, iface: string): string =>
  [node, 'k8s', pod, iface].map(escapeSegment).join('-');

/** `10.0.0.5/26` -> `10.0.0.5/32`: endpoints hold single addresses. */
export const toHostNetwork = (address: string): string => {
  const ip = address.split('/')[0]!;
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
};

/** The container ID a handle `<network>.<containerID>` names (the whole handle without a dot). */
export const containerIdOf = (handleId: string): string =>
  handleId.includes('.') ? handleId.slice(handleId.indexOf('.') + 1) : handleId;

/** The endpoint of a pod that was assigned `addresses`. */
export function buildEndpoint(options: {
  readonly node: string;
  readonly namespace: string;
  readonly pod: string;
  readonly containerId: string;
  readonly addresses: readonly string[];
}): WorkloadEndpoint {
  const { node, namespace, pod } = options;
  return {
    apiVersion: API_VERSION_V3,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: endpointName(node, pod, 'eth0'),
      namespace,
      labels: {
        'projectcalico.org/namespace': namespace,
        'projectcalico.org/orchestrator': 'k8s',
      },
    },
    spec: {
      orchestrator: 'k8s',
      node,
      containerID: options.containerId,
      pod,
      endpoint: 'eth0',
      ipNetworks: options.addresses.map(toHostNetwork),
      profiles: [`kns.${namespace}`],
      interfaceName: hostInterfaceName(namespace, pod),
    },
  };
}

/** Delete the endpoints whose containerID the handle names; returns `ns/name` of each. */
export async function deleteEndpointsOfHandle(
  client: ResourceClient,
  handleId: string,
): Promise<string[]> {
  const containerId = containerIdOf(handleId);
  const { items } = await client.list('WorkloadEndpoint');
  const deleted: string[] = [];
  for (const wep of items) {
    if (wep.kind !== 'WorkloadEndpoint' || wep.spec.containerID !== containerId) continue;
    await client.delete('WorkloadEndpoint', wep.metadata.name, wep.metadata.namespace);
    deleted.push(`${wep.metadata.namespace}/${wep.metadata.name}`);
  }
  return deleted;
}
