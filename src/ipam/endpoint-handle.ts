// Which IPAM handle holds a WorkloadEndpoint's addresses (ipam-core.md §3.12): the CNI plugin
// records them under `<network>.<containerID>`; a pre-v3 plugin under `<namespace>.<pod>` (pods)
// or the bare container ID. `ipam check` uses this to find endpoints on addresses they do not hold.
import { cleanHandle } from './block.js';

/** The container ID a handle `<network>.<containerID>` names (the whole handle without a dot). */
export const containerIdOfHandle = (handleId: string): string =>
  handleId.includes('.') ? handleId.slice(handleId.indexOf('.') + 1) : handleId;

/** The identity of an endpoint that matters for ownership. */
export interface EndpointIdentity {
  readonly containerId?: string;
  readonly namespace?: string;
  readonly pod?: string;
}

/**
 * True when an allocation (its handle and `secondary` attributes) is the endpoint's own: its
 * handle names the endpoint's container (or is the pre-v3 pod handle), or its attributes name
 * the endpoint's pod. The second test keeps handles of other shapes (KubeVirt's
 * `<network>.<namespace>-<vm>`, a tool's own) from being taken for another pod's.
 */
export function allocationBelongsTo(
  handleId: string,
  attrs: Readonly<Record<string, string>> | undefined,
  endpoint: EndpointIdentity,
): boolean {
  // An endpoint that names neither container nor pod cannot be judged: it is given the benefit.
  if (!endpoint.containerId && endpoint.pod === undefined) return true;
  const handle = cleanHandle(handleId);
  const namespace = endpoint.namespace ?? 'default';
  if (endpoint.containerId && containerIdOfHandle(handle) === endpoint.containerId) return true;
  if (endpoint.pod === undefined) return false;
  if (handle === `${namespace}.${endpoint.pod}`) return true;
  return attrs?.pod === endpoint.pod && (attrs.namespace ?? 'default') === namespace;
}
