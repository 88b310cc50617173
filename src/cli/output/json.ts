// JSON as calicoctl prints it (surfaces.md §1.6): Go's encoding/json with a 2-space indent, so
// keys come in struct declaration order (kind, apiVersion, metadata, spec, ...), and no newline
// follows the last brace. Keys this table does not know keep their order, after the known ones.
// Go maps (labels, annotations) print with their keys sorted, as encoding/json sorts them.
import { isPlainObject } from '../../resources/index.js';

const TOP = ['kind', 'apiVersion', 'metadata', 'spec', 'status', 'items'];
const OBJECT_META = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];
const SPECS: Record<string, string[]> = {
  IPPool: [
    'cidr',
    'vxlanMode',
    'ipipMode',
    'natOutgoing',
    'disabled',
    'disableBGPExport',
    'blockSize',
    'nodeSelector',
    'namespaceSelector',
    'allowedUses',
    'assignmentMode',
  ],
  IPReservation: ['reservedCIDRs'],
  IPAMConfiguration: [
    'strictAffinity',
    'autoAllocateBlocks',
    'maxBlocksPerHost',
    'kubeVirtVMAddressPersistence',
    'ipCooldownSeconds',
  ],
  Node: [
    'bgp',
    'ipv4VXLANTunnelAddr',
    'ipv6VXLANTunnelAddr',
    'vxlanTunnelMACAddr',
    'vxlanTunnelMACAddrV6',
    'orchRefs',
    'wireguard',
    'wireguardPublicKey',
    'addresses',
  ],
  WorkloadEndpoint: [
    'orchestrator',
    'workload',
    'node',
    'containerID',
    'pod',
    'endpoint',
    'serviceAccountName',
    'ipNetworks',
    'ipNATs',
    'ipv4Gateway',
    'ipv6Gateway',
    'profiles',
    'interfaceName',
    'mac',
    'ports',
    'allowSpoofedSourcePrefixes',
  ],
};
const NODE_BGP = [
  'asNumber',
  'ipv4Address',
  'ipv6Address',
  'ipv4IPIPTunnelAddr',
  'routeReflectorClusterID',
];
const CONDITION = [
  'type',
  'status',
  'observedGeneration',
  'lastTransitionTime',
  'reason',
  'message',
];

/**
 * Every field name the order tables know, lower-cased: go-template uses it to tell a Go field
 * that JSON omitted (omitempty, printed as its zero value) from a field that does not exist.
 */
export function knownFieldNames(): ReadonlySet<string> {
  const all = [TOP, OBJECT_META, ...Object.values(SPECS), NODE_BGP, CONDITION].flat();
  return new Set(all.map((name) => name.toLowerCase()));
}

function ordered(obj: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of order) if (key in obj) out[key] = obj[key];
  for (const key of Object.keys(obj)) if (!(key in out)) out[key] = obj[key];
  return out;
}

/** Go's encoding/json writes a map's keys in byte order (label keys are ASCII). */
function sortedMap(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(compareBytes)) out[key] = value[key];
  return out;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A copy of a resource (or List) with its keys in Calico's struct order. */
export function orderResource(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(orderResource);
  if (!isPlainObject(value)) return value;
  const out = ordered(value, TOP);
  const kind = typeof value.kind === 'string' ? value.kind : '';
  if (isPlainObject(out.metadata)) {
    const metadata = ordered(out.metadata, OBJECT_META);
    for (const map of ['labels', 'annotations']) {
      if (map in metadata) metadata[map] = sortedMap(metadata[map]);
    }
    out.metadata = metadata;
  }
  if (isPlainObject(out.spec) && SPECS[kind]) {
    const spec = ordered(out.spec, SPECS[kind]!);
    if (kind === 'Node' && isPlainObject(spec.bgp)) spec.bgp = ordered(spec.bgp, NODE_BGP);
    out.spec = spec;
  }
  if (isPlainObject(out.status) && Array.isArray(out.status.conditions)) {
    out.status = {
      ...out.status,
      conditions: out.status.conditions.map((c) => (isPlainObject(c) ? ordered(c, CONDITION) : c)),
    };
  }
  if (Array.isArray(out.items)) out.items = out.items.map(orderResource);
  return out;
}

/**
 * Render as calicoctl's JSON output: struct key order, 2-space indent, no trailing newline. Like
 * Go's json.MarshalIndent, `&`, `<` and `>` are escaped (a selector's `&&` prints `\u0026\u0026`).
 */
export function renderJson(value: unknown): string {
  return JSON.stringify(orderResource(value), null, 2)
    .replace(/&/g, '\\u0026')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
