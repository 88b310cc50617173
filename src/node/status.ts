// `cidrpool node status` after the CLI parsed its flags: ask the node's BIRD for its protocols
// and return the BGP sessions; the command line prints them as calicoctl node status does.
import { join } from 'node:path';
import { parseBirdProtocols, type BgpPeerStatus } from '../kernel/bird-protocols.js';
import { showProtocols } from '../kernel/bird.js';
import { BIRD_SOCKET_NAME, defaultBirdRunDir } from './bgp.js';

export type { BgpPeerStatus };

export interface NodeStatusFlags {
  readonly name: string;
  readonly birdSocket?: string;
  readonly birdRunDir?: string;
}

/** The control socket: --bird-socket, else the socket in --bird-run-dir (or the node's default). */
export const statusSocket = (flags: NodeStatusFlags): string =>
  flags.birdSocket ?? join(flags.birdRunDir ?? defaultBirdRunDir(flags.name), BIRD_SOCKET_NAME);

/**
 * The BGP sessions of the BIRD on the node's socket. Throws BGP_BIRD_UNAVAILABLE when no BIRD
 * answers there.
 */
export async function readNodeStatus(flags: NodeStatusFlags): Promise<BgpPeerStatus[]> {
  return parseBirdProtocols(await showProtocols(statusSocket(flags)));
}
