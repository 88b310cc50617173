// The one way to build, write, find and delete a WorkloadEndpoint, shared by the CNI plugin
// (ADD/DEL), the CLI (`ipam assign --pod`, `ipam release --handle`, `ipam release
// --from-report`) and the node agent. Named and shaped as Calico's CNI plugin does
// (surfaces.md §3.3), so `get wep -A` and `ipam check` see every pod alike.
//
// Invariant (docs/design/ipam.md, "Endpoints and their addresses"): an endpoint never names an
// address its handle does not hold. Writers keep it by order: an endpoint is written after its
// addresses are assigned, and only while their handle is unchanged (writeEndpoint's `heldBy`);
// it is deleted before its addresses are released. A kill between two writes then leaves at
// worst a leaked address (which `ipam check` reports and a retried DEL frees), never an
// endpoint on a free or foreign address.
//
// The CNI plugin bundles this file: it imports no validation machinery, and `node:crypto`
// only on demand (hostInterfaceName), as the plugin's start-up pays for every module.
import { closeSync, openSync, readSync } from 'node:fs';
import { listAll, type Datastore } from '../datastore/api.js';
import { handleKey, resourceKey, resourcePrefix } from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { containerIdOfHandle } from '../ipam/endpoint-handle.js';
import { API_VERSION_V3, type WorkloadEndpoint } from '../resources/types.js';

export { containerIdOfHandle as containerIdOf } from '../ipam/endpoint-handle.js';

/** The workload an endpoint is for: a Kubernetes pod, or a plain CNI container. */
export interface Workload {
  readonly orchestrator: 'k8s' | 'cni';
  readonly namespace: string;
  /** Pod name (k8s only). */
  readonly pod?: string;
  readonly containerId: string;
}

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

export { hostInterfaceName } from '../resources/workload-interface.js';

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

/** The endpoint of a workload that was assigned `addresses` (any mask). Throws CNI_BAD_ANNOTATION. */
export function buildWorkloadEndpoint(options: {
  readonly node: string;
  readonly workload: Workload;
  readonly ifName: string;
  /** The CNI network name: the profile of a plain CNI container. */
  readonly network: string;
  readonly addresses: readonly string[];
  /** Pod labels from the Kubernetes API, when read. */
  readonly podLabels?: Readonly<Record<string, string>>;
  /** The pod's floatingIPs: each maps to the pod's address of its family (`:` means IPv6). */
  readonly floatingIps?: readonly string[];
  /** The host side of the pod's veth, when the caller knows it (hostInterfaceName). */
  readonly interfaceName?: string;
  /** The MAC address of the pod's interface, when the caller made it (the pod plugin). */
  readonly mac?: string;
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
      ...(options.interfaceName ? { interfaceName: options.interfaceName } : {}),
      ...(options.mac ? { mac: options.mac } : {}),
    },
  };
}

/**
 * A random (version 4) UUID from /dev/urandom, as crypto.randomUUID() makes: importing
 * `node:crypto` would load 17 modules (~3 ms) for this one call, and the plugin runs on Linux.
 */
export function randomUuid(): string {
  const bytes = Buffer.alloc(16);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, bytes, 0, 16, null);
  } finally {
    closeSync(fd);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The endpoint stored under `name` in `namespace`, or undefined (also when undecodable). */
export async function findEndpoint(
  store: Datastore,
  name: string,
  namespace: string,
): Promise<WorkloadEndpoint | undefined> {
  const current = await store.get(resourceKey('WorkloadEndpoint', name, namespace));
  if (!current) return undefined;
  try {
    return JSON.parse(current.value) as WorkloadEndpoint;
  } catch {
    return undefined;
  }
}

/**
 * Create or replace the endpoint (a retried ADD replaces its own earlier endpoint). With
 * `heldBy`, the write is one transaction conditioned on that handle being unchanged since it
 * was read here, so an endpoint is never written over addresses a concurrent release has
 * just freed. Throws IPAM_HANDLE_NOT_FOUND (the handle is gone: its addresses were released),
 * DS_CONFLICT (the handle changed meanwhile; retryable), DS_*.
 */
export async function writeEndpoint(
  store: Datastore,
  wep: WorkloadEndpoint,
  options: { readonly heldBy?: string } = {},
): Promise<void> {
  const key = resourceKey('WorkloadEndpoint', wep.metadata.name, wep.metadata.namespace);
  const stored = { ...wep, metadata: { ...wep.metadata, uid: wep.metadata.uid ?? randomUuid() } };
  const value = JSON.stringify(stored);
  // An endpoint without addresses names none: there is no handle to hold them.
  if (options.heldBy === undefined || (wep.spec.ipNetworks ?? []).length === 0) {
    await store.put(key, value);
    return;
  }
  const handle = await store.get(handleKey(options.heldBy));
  if (!handle) {
    throw new CidrpoolError(
      'IPAM_HANDLE_NOT_FOUND',
      `resource does not exist: IPAMHandle(${options.heldBy}): its addresses were released before endpoint ${wep.metadata.name} was written`,
      { details: { handleId: options.heldBy } },
    );
  }
  await store.txn([{ key: handle.key, revision: handle.revision }], [{ op: 'put', key, value }]);
}

/**
 * Delete the endpoint if it belongs to `containerId` (as Calico does: a DEL for an old
 * sandbox must not remove the endpoint of the pod's new one). Absent: nothing to do.
 * Returns whether an endpoint was deleted. Throws DS_* (never not-found).
 */
export async function deleteEndpoint(
  store: Datastore,
  name: string,
  namespace: string,
  containerId: string,
): Promise<boolean> {
  const key = resourceKey('WorkloadEndpoint', name, namespace);
  const current = await store.get(key);
  if (!current) return false;
  let owner: string | undefined;
  try {
    owner = (JSON.parse(current.value) as WorkloadEndpoint).spec?.containerID;
  } catch {
    owner = undefined; // undecodable: ours to clean up
  }
  if (owner && owner !== containerId) return false;
  return deleteAtRevision(store, key, current.revision);
}

/**
 * Delete the endpoint stored at `revision` (a stale endpoint a report named); an endpoint
 * changed or deleted since is left alone. Returns whether it was deleted. Throws DS_*.
 */
export async function deleteEndpointAt(
  store: Datastore,
  name: string,
  namespace: string,
  revision: string,
): Promise<boolean> {
  return deleteAtRevision(store, resourceKey('WorkloadEndpoint', name, namespace), revision);
}

async function deleteAtRevision(store: Datastore, key: string, revision: string): Promise<boolean> {
  try {
    await store.delete(key, revision);
    return true;
  } catch (err) {
    // Gone or replaced meanwhile: either way not ours to delete any more.
    if (isCidrpoolError(err, 'DS_NOT_FOUND', 'DS_CONFLICT')) return false;
    throw err;
  }
}

/**
 * Delete the endpoints whose containerID the handle names (in `namespace` when given, else in
 * every namespace); returns `ns/name` of each. Throws DS_*.
 */
export async function deleteEndpointsOfHandle(
  store: Datastore,
  handleId: string,
  namespace?: string,
): Promise<string[]> {
  const containerId = containerIdOfHandle(handleId);
  const deleted: string[] = [];
  for (const kv of await listAll(store, resourcePrefix('WorkloadEndpoint', namespace))) {
    let wep: WorkloadEndpoint;
    try {
      wep = JSON.parse(kv.value) as WorkloadEndpoint;
    } catch {
      continue;
    }
    if (wep.spec?.containerID !== containerId) continue;
    if (await deleteAtRevision(store, kv.key, kv.revision))
      deleted.push(`${wep.metadata.namespace}/${wep.metadata.name}`);
  }
  return deleted;
}
