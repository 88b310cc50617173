// A retried request gets back what its handle already holds (AutoAssignRequest.reuseHeld): an
// earlier attempt wrote its addresses and lost its answer (e.g. the node agent was killed
// mid-call), and assigning again would leave two addresses of a family under one handle.
// Answered from the handle AutoAssign reads in its first batch anyway: only a handle that exists
// (a retry) costs one more read, of its blocks.
import { readAll } from '../datastore/api.js';
import { blockKey } from '../datastore/keys.js';
import { formatCidr, parseCidr } from '../net/index.js';
import { garbageCollect, ipWithMask, ordinalsOfHandle } from './block.js';
import { blockOf, type Stored } from './block-store.js';
import type { IpamContext } from './context.js';
import type { HandleValue } from './model.js';
import type { AutoAssignRequest, AutoAssignResult, FamilyAssignment } from './types.js';

/**
 * The addresses `handle` holds, as an AutoAssign result, when they are exactly `request.num4`
 * IPv4 and `request.num6` IPv6 addresses; undefined otherwise (then the request assigns as
 * usual). Throws DS_* from the block reads.
 */
export async function heldAssignment(
  ctx: IpamContext,
  request: AutoAssignRequest,
  handleId: string,
  handle: Stored<HandleValue>,
  cooldownSeconds: number,
): Promise<AutoAssignResult | undefined> {
  const held = Object.entries(handle.value.block)
    .filter(([, count]) => count > 0)
    .map(([text, count]) => ({ cidr: parseCidr(text), count }));
  const wanted = { 4: request.num4, 6: request.num6 };
  const recorded = { 4: 0, 6: 0 };
  for (const { cidr, count } of held) recorded[cidr.family] += count;
  if (recorded[4] !== wanted[4] || recorded[6] !== wanted[6]) return undefined;
  const read = await readAll(
    ctx.store,
    held.map(({ cidr }) => ({ get: blockKey(cidr.family, formatCidr(cidr)) })),
  );
  const ips: Record<4 | 6, string[]> = { 4: [], 6: [] };
  held.forEach(({ cidr }, i) => {
    const stored = blockOf(read[i]![0]);
    if (!stored) return;
    const block = garbageCollect(stored.value, cooldownSeconds, ctx.env.now());
    for (const ordinal of ordinalsOfHandle(block, handleId)) {
      ips[cidr.family].push(ipWithMask(block, ordinal));
    }
  });
  // The handle's counts and the blocks disagree (a write in between): assign as usual.
  if (ips[4].length !== wanted[4] || ips[6].length !== wanted[6]) return undefined;
  const assignment = (family: 4 | 6): FamilyAssignment => ({
    family,
    ips: ips[family],
    numRequested: wanted[family],
    messages: [],
  });
  return { ipv4: assignment(4), ipv6: assignment(6) };
}
