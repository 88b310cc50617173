// Reading the room index back in tests: which blocks of a range have their room bit set, and
// where the bitmap disagrees with the blocks as stored.
import { listAll, type Datastore } from '../../src/datastore/api.js';
import { blocksPrefix } from '../../src/datastore/keys.js';
import { decodeBlock } from '../../src/ipam/model.js';
import { hasRoom, loadRoomChunks, roomCandidates } from '../../src/ipam/room-index.js';
import { cidrContainsCidr, formatCidr, parseCidr } from '../../src/net/index.js';

/** CIDR texts of the blocks inside `range` whose room bit is set, in address order. */
export async function roomBitsIn(
  store: Datastore,
  range: string,
  blockPrefix: number,
): Promise<string[]> {
  const pool = parseCidr(range);
  const chunks = await loadRoomChunks(store, pool, blockPrefix);
  return [...roomCandidates(pool, blockPrefix, 0n, chunks)].map(formatCidr);
}

/**
 * Every way the room bits of the ranges disagree with the stored blocks: a block with room
 * (free or cooling-down ordinal) whose bit is clear, which would hide it from borrowers, and,
 * with `exact`, a set bit for a full or missing block (harmless, but the engine's own writes
 * should not leave one behind when nothing races).
 */
export async function roomBitProblems(
  store: Datastore,
  ranges: readonly { cidr: string; blockSize: number }[],
  exact = true,
): Promise<string[]> {
  const problems: string[] = [];
  const withRoom = new Set<string>();
  const all = new Map<string, boolean>();
  for (const kv of await listAll(store, blocksPrefix())) {
    const b = decodeBlock(kv.value, kv.key);
    all.set(b.cidr, hasRoom(b));
    if (hasRoom(b)) withRoom.add(b.cidr);
  }
  for (const r of ranges) {
    const set = new Set(await roomBitsIn(store, r.cidr, r.blockSize));
    const range = parseCidr(r.cidr);
    for (const cidr of withRoom) {
      const c = parseCidr(cidr);
      if (c.prefix === r.blockSize && cidrContainsCidr(range, c) && !set.has(cidr))
        problems.push(`block ${cidr} has room but its room bit is clear`);
    }
    if (!exact) continue;
    for (const cidr of set) {
      if (!all.has(cidr)) problems.push(`room bit set for missing block ${cidr}`);
      else if (!all.get(cidr)) problems.push(`room bit set for full block ${cidr}`);
    }
  }
  return problems;
}
