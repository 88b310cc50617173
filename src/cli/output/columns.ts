// Table columns of `calicoctl get` per kind (surfaces.md §1.6): the ps and wide heading sets and
// the value of each heading. Custom columns may name any heading of the kind's map.
import type { Resource, ResourceKind } from '../../resources/types.js';

/** Facts a cell may need beyond its resource (read once per `get`). */
export interface CellContext {
  /** calicoctl's global AS: BGPConfiguration `default` spec.asNumber, else 64512. */
  readonly globalAsNumber: string;
}

export const DEFAULT_CELL_CONTEXT: CellContext = { globalAsNumber: '64512' };

type Cell = (r: Resource, context: CellContext) => string;

/** The ps and wide heading sets of a kind, and the value of every heading. */
export interface KindColumns {
  readonly ps: readonly string[];
  readonly wide: readonly string[];
  readonly cells: Readonly<Record<string, Cell>>;
}

const bool = (v: boolean | undefined): string => (v ? 'true' : 'false');
const spec = (r: Resource): Record<string, unknown> => (r.spec ?? {}) as Record<string, unknown>;
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const list = (v: unknown): string => (Array.isArray(v) ? v.map(str).join(',') : '');

/** IPReservation CIDRS: joined with `,`, cut to 77 characters plus `...` beyond 80. */
function truncated(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const name: Cell = (r) => r.metadata.name;
const namespace: Cell = (r) => str(r.metadata.namespace);

/** Column headings and cell values of every kind. */
export const COLUMNS: Readonly<Record<ResourceKind, KindColumns>> = {
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: [
      'NAME',
      'CIDR',
      'NAT',
      'IPIPMODE',
      'VXLANMODE',
      'DISABLED',
      'DISABLEBGPEXPORT',
      'SELECTOR',
      'ASSIGNMENTMODE',
    ],
    cells: {
      NAME: name,
      CIDR: (r) => str(spec(r).cidr),
      NAT: (r) => bool(spec(r).natOutgoing as boolean | undefined),
      IPIPMODE: (r) => str(spec(r).ipipMode) || 'Never',
      VXLANMODE: (r) => str(spec(r).vxlanMode) || 'Never',
      DISABLED: (r) => bool(spec(r).disabled as boolean | undefined),
      DISABLEBGPEXPORT: (r) => bool(spec(r).disableBGPExport as boolean | undefined),
      SELECTOR: (r) => str(spec(r).nodeSelector),
      ASSIGNMENTMODE: (r) => str(spec(r).assignmentMode),
    },
  },
  IPReservation: {
    ps: ['NAME'],
    wide: ['NAME', 'CIDRS'],
    cells: { NAME: name, CIDRS: (r) => truncated(list(spec(r).reservedCIDRs)) },
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME: name,
      // A node with BGP but no AS of its own shows the global AS in parentheses.
      ASN: (r, context) => {
        const bgp = spec(r).bgp as { asNumber?: number } | undefined;
        if (!bgp) return '';
        return bgp.asNumber !== undefined ? String(bgp.asNumber) : `(${context.globalAsNumber})`;
      },
      IPV4: (r) => str((spec(r).bgp as { ipv4Address?: string } | undefined)?.ipv4Address),
      IPV6: (r) => str((spec(r).bgp as { ipv6Address?: string } | undefined)?.ipv6Address),
    },
  },
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME: name,
      NAMESPACE: namespace,
      WORKLOAD: (r) => str(spec(r).workload) || str(spec(r).pod),
      NODE: (r) => str(spec(r).node),
      ORCHESTRATOR: (r) => str(spec(r).orchestrator),
      NETWORKS: (r) => list(spec(r).ipNetworks),
      INTERFACE: (r) => str(spec(r).interfaceName),
      PROFILES: (r) => list(spec(r).profiles),
      // Go prints each ipNATs struct with %v: `{10.0.0.1 1.2.3.4}`.
      NATS: (r) => {
        const nats = spec(r).ipNATs as { internalIP: string; externalIP: string }[] | undefined;
        return (nats ?? []).map((n) => `{${n.internalIP} ${n.externalIP}}`).join(',');
      },
    },
  },
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: {
      NAME: name,
      LOGSEVERITY: (r) => str(spec(r).logSeverityScreen),
      // calicoctl prints `-` for an unset pointer field, the value otherwise.
      MESHENABLED: (r) => str(spec(r).nodeToNodeMeshEnabled ?? '-'),
      ASNUMBER: (r) => str(spec(r).asNumber || '-'),
    },
  },
  // calicoctl prints only the name of a FelixConfiguration.
  FelixConfiguration: {
    ps: ['NAME'],
    wide: ['NAME'],
    cells: { NAME: name },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME: name,
      PEERIP: (r) => str(spec(r).peerIP),
      // The node, else the node selector, else `(global)`: the peering applies to every node.
      NODE: (r) => str(spec(r).node) || str(spec(r).nodeSelector) || '(global)',
      ASN: (r) => str(spec(r).asNumber ?? 0),
    },
  },
  IPAMConfiguration: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME: name,
      STRICTAFFINITY: (r) => bool(spec(r).strictAffinity as boolean | undefined),
      AUTOALLOCATEBLOCKS: (r) => bool(spec(r).autoAllocateBlocks as boolean | undefined),
      MAXBLOCKSPERHOST: (r) => str(spec(r).maxBlocksPerHost ?? 0),
    },
  },
};

/** Kinds whose tables get a NAMESPACE column with -n or -A. */
export const hasNamespaceColumn = (kind: ResourceKind): boolean => kind === 'WorkloadEndpoint';
