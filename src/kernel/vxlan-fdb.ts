// The permanent FDB and neighbour entries of a VXLAN device (spec §4.2): read with
// `bridge -j fdb` and `ip -j neigh`, written as `-batch` lines. Only permanent entries on the
// agent's own device are read, so only those can be deleted.
import type { FdbEntry, NeighbourEntry } from '../dataplane/index.js';
import { runToolJson } from './run-tool.js';

interface FdbJson {
  mac: string;
  dst?: string;
  state?: string;
  flags?: string[];
}

interface NeighJson {
  dst: string;
  lladdr?: string;
  state?: string[];
}

/**
 * The permanent unicast FDB entries with a destination on `device`.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
export async function readFdb(device: string): Promise<FdbEntry[]> {
  const json = await runToolJson<FdbJson>('bridge', ['-j', 'fdb', 'show', 'dev', device]);
  return json
    .filter((e) => e.dst !== undefined && e.state === 'permanent' && e.mac !== '00:00:00:00:00:00')
    .map((e) => ({ mac: e.mac, dst: e.dst! }));
}

/**
 * The permanent neighbour entries on `device`.
 * @throws CidrpoolError KERNEL_COMMAND_FAILED, KERNEL_TOOL_MISSING
 */
export async function readNeighbours(device: string): Promise<NeighbourEntry[]> {
  const json = await runToolJson<NeighJson>('ip', ['-j', 'neigh', 'show', 'dev', device]);
  return json
    .filter((e) => e.lladdr !== undefined && (e.state ?? []).includes('PERMANENT'))
    .map((e) => ({ ip: e.dst, mac: e.lladdr! }));
}

/** `bridge -batch` lines. */
export const fdbReplaceLine = (device: string, e: FdbEntry): string =>
  `fdb replace ${e.mac} dev ${device} dst ${e.dst} self permanent`;
export const fdbDeleteLine = (device: string, e: FdbEntry): string =>
  `fdb del ${e.mac} dev ${device} dst ${e.dst} self`;

/** `ip -batch` lines. */
export const neighbourReplaceLine = (device: string, e: NeighbourEntry): string =>
  `neigh replace ${e.ip} lladdr ${e.mac} dev ${device} nud permanent`;
export const neighbourDeleteLine = (device: string, e: NeighbourEntry): string =>
  `neigh del ${e.ip} dev ${device}`;
