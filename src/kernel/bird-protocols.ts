// Reads the reply of `birdc show protocols` into the BGP sessions `node status` shows. Only the
// protocols named as bird-config.ts names them (`Mesh_`, `Node_`, `Global_` + address) are
// peers; BIRD's device, direct, kernel and static protocols are left out, as calicoctl does.

/** One BGP session as `calicoctl node status` lists it. */
export interface BgpPeerStatus {
  readonly address: string;
  /** `node-to-node mesh`, `node specific` or `global`. */
  readonly type: string;
  /** BIRD's protocol state: `up`, `start`, `down`... */
  readonly state: string;
  readonly since: string;
  /** BGP state and the last error: `Established`, `Active Socket: Connection refused`. */
  readonly info: string;
  readonly family: 4 | 6;
}

const PEER_TYPES: Readonly<Record<string, string>> = {
  Mesh: 'node-to-node mesh',
  Node: 'node specific',
  Global: 'global',
};

// `Mesh_192_168_10_12  BGP  ---  up  17:50:01.123  Established`; BIRD 2 prints a table column
// (`---` for BGP), BIRD 1.6 prints `master`. Since may hold a date and a time.
const LINE =
  /^(Mesh|Node|Global)_(\S+?)(?:_port_(\d+))?\s+BGP\s+\S+\s+(\S+)\s+(\d{4}-\d\d-\d\d \S+|\S+)\s*(.*)$/;

/** The address a protocol name encodes: `192_168_10_12` -> `192.168.10.12`, v6 with colons. */
function addressOf(encoded: string): { address: string; family: 4 | 6 } {
  if (/^\d+_\d+_\d+_\d+$/.test(encoded)) return { address: encoded.replace(/_/g, '.'), family: 4 };
  return { address: encoded.replace(/_/g, ':'), family: 6 };
}

/** The BGP peers of a `show protocols` reply, in BIRD's order. */
export function parseBirdProtocols(reply: string): BgpPeerStatus[] {
  const peers: BgpPeerStatus[] = [];
  for (const raw of reply.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const { address, family } = addressOf(m[2]!);
    peers.push({
      address: m[3] ? `${address}:${m[3]}` : address,
      type: PEER_TYPES[m[1]!]!,
      state: m[4]!,
      since: m[5]!,
      info: m[6]!.trim(),
      family,
    });
  }
  return peers;
}
