// Reads what a node's BIRD configuration is made from (bird-config.ts), in one consistent read:
// pools, nodes, the BGPConfigurations (`default` and the per-node `node.<name>` ones), BGPPeers
// and this node's block affinities of both families.
import { readAll, type Datastore } from '../datastore/api.js';
import { hostAffinityPrefix, parseAffinityKey, resourcePrefix } from '../datastore/keys.js';
import { decodeResource } from '../client/stored-form.js';
import { decodeAffinity } from '../ipam/model.js';
import type { BGPConfiguration, BGPPeer, IPPool, Node, Resource } from '../resources/index.js';
import type { BirdInputs } from './bird-config.js';

/** The datastore prefixes whose changes can change a node's BIRD configuration. */
export const birdWatchPrefixes = (nodeName: string): string[] => [
  resourcePrefix('IPPool'),
  resourcePrefix('Node'),
  resourcePrefix('BGPConfiguration'),
  resourcePrefix('BGPPeer'),
  hostAffinityPrefix(nodeName, 4),
  hostAffinityPrefix(nodeName, 6),
];

const ofKind = <K extends Resource['kind']>(kind: K, items: Resource[]) =>
  items.filter((r): r is Extract<Resource, { kind: K }> => r.kind === kind);

/**
 * The BIRD inputs of `nodeName` as the datastore holds them now. Throws the datastore's errors
 * (DS_UNAVAILABLE, DS_CORRUPT) unchanged.
 */
export async function readBirdInputs(store: Datastore, nodeName: string): Promise<BirdInputs> {
  const [pools, nodes, configs, peers, affinities4, affinities6] = await readAll(store, [
    { list: resourcePrefix('IPPool') },
    { list: resourcePrefix('Node') },
    { list: resourcePrefix('BGPConfiguration') },
    { list: resourcePrefix('BGPPeer') },
    { list: hostAffinityPrefix(nodeName, 4) },
    { list: hostAffinityPrefix(nodeName, 6) },
  ]);
  const decode = (kvs: typeof pools) => kvs!.map(decodeResource);
  const bgpConfigs = ofKind('BGPConfiguration', decode(configs)) as BGPConfiguration[];
  return {
    nodeName,
    pools: ofKind('IPPool', decode(pools)) as IPPool[],
    nodes: ofKind('Node', decode(nodes)) as Node[],
    config: bgpConfigs.find((c) => c.metadata.name === 'default'),
    nodeConfigs: bgpConfigs.filter((c) => c.metadata.name.startsWith('node.')),
    peers: ofKind('BGPPeer', decode(peers)) as BGPPeer[],
    affinities: [...affinities4!, ...affinities6!].flatMap((kv) => {
      const parsed = parseAffinityKey(kv.key);
      return parsed ? [{ cidr: parsed.cidr, state: decodeAffinity(kv.value, kv.key).state }] : [];
    }),
  };
}
