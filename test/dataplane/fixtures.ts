// Datastore values for the dataplane's unit tests, shaped as cidrpool and Calico store them, and
// a model fed through the same key dispatcher the agent uses.
import { blockKey, resourceKey } from '../../src/datastore/keys.js';
import {
  DEFAULT_DATAPLANE_SETTINGS,
  DataplaneModel,
  applyDatastoreKey,
  type DataplaneSettings,
} from '../../src/dataplane/index.js';
import type { IPPoolSpec, NodeSpec } from '../../src/resources/types.js';
import type { KernelRoute } from '../../src/dataplane/index.js';

export const poolKey = (name: string): string => resourceKey('IPPool', name);
export const nodeKey = (name: string): string => resourceKey('Node', name);

export function poolJson(name: string, spec: Partial<IPPoolSpec> & { cidr: string }): string {
  return JSON.stringify({
    kind: 'IPPool',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name },
    spec: { blockSize: 26, ...spec },
  });
}

export function nodeJson(
  name: string,
  spec: NodeSpec,
  labels: Record<string, string> = {},
): string {
  return JSON.stringify({
    kind: 'Node',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name, labels },
    spec,
  });
}

/** A block of `size` addresses affine to `host`, with `allocated` ordinal -> node. */
export function blockJson(
  cidr: string,
  host: string | null,
  allocated: Record<number, string> = {},
  size = 64,
): string {
  const allocations: (number | null)[] = new Array(size).fill(null);
  const attributes: unknown[] = [];
  for (const [ordinal, node] of Object.entries(allocated)) {
    allocations[Number(ordinal)] = attributes.length;
    attributes.push({ handle_id: `h-${ordinal}`, secondary: { node } });
  }
  return JSON.stringify({
    cidr,
    affinity: host === null ? null : `host:${host}`,
    allocations,
    unallocated: allocations.flatMap((a, i) => (a === null ? [i] : [])),
    attributes,
    deleted: false,
  });
}

export { blockKey };

/** A model for `local`, with the §8.1 environment (eth0, MTU 1500). */
export function newModel(local: string, settings: Partial<DataplaneSettings> = {}): DataplaneModel {
  const model = new DataplaneModel(local, { ...DEFAULT_DATAPLANE_SETTINGS, ...settings });
  model.setEnvironment({ parent4: 'eth0', parent6: 'eth0', hostMtu: 1500 });
  return model;
}

/** Apply a key (value undefined: delete), failing the test on a decode problem. */
export function put(model: DataplaneModel, key: string, value: string | undefined): void {
  const problem = applyDatastoreKey(model, key, value);
  if (problem) throw new Error(problem);
}

/** The §8.1 cluster: three nodes, their blocks and VXLAN tunnel addresses 10.244.K.0. */
export function seedTopology(model: DataplaneModel, vxlanMode = 'Always'): void {
  put(
    model,
    poolKey('pool-a'),
    poolJson('pool-a', { cidr: '10.244.0.0/16', vxlanMode: vxlanMode as 'Always' }),
  );
  const nodes: [string, string, number][] = [
    ['n1', '192.168.10.11/24', 1],
    ['n2', '192.168.10.12/24', 2],
    ['n3', '192.168.20.13/24', 3],
  ];
  for (const [name, address, k] of nodes) {
    put(
      model,
      nodeKey(name),
      nodeJson(name, { bgp: { ipv4Address: address }, ipv4VXLANTunnelAddr: `10.244.${k}.0` }),
    );
    put(
      model,
      blockKey(4, `10.244.${k}.0/26`),
      blockJson(`10.244.${k}.0/26`, name, { 0: name, 5: name }),
    );
  }
}

/** The routes of spec §3.3: via a VTEP, directly via a node address, a local blackhole. */
export const vxlanRoute = (dst: string, gateway: string): KernelRoute => ({
  family: 4,
  dst,
  type: 'unicast',
  gateway,
  device: 'vxlan.calico',
  onlink: true,
  protocol: 3,
  scope: 'global',
  mtu: 1450,
});
export const directRoute = (dst: string, gateway: string): KernelRoute => ({
  family: 4,
  dst,
  type: 'unicast',
  gateway,
  device: 'eth0',
  onlink: true,
  protocol: 80,
  scope: 'global',
});
export const blackhole = (dst: string): KernelRoute => ({
  family: 4,
  dst,
  type: 'blackhole',
  onlink: false,
  protocol: 80,
  scope: 'global',
});
