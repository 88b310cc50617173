// The addresses of one block, for the block map's click: read the block key itself, so the
// answer is as fresh as the store.
import { listAll, type Datastore } from '../datastore/api.js';
import { blockKey, resourcePrefix } from '../datastore/keys.js';
import { CidrpoolError } from '../errors/index.js';
import { isReservedHandle, ordinalToIp } from '../ipam/block.js';
import { reservationsOf } from '../ipam/context.js';
import type { PoolUtilization } from '../ipam/index.js';
import { decodeBlock } from '../ipam/model.js';
import { cidrSize, formatCidr, formatIp, sizeMinus, tryParseCidr } from '../net/index.js';
import type { BlockAddress, BlockDetail } from './api-types.js';

/**
 * The block `cidrText` with every allocated address. The counts are the ones of
 * `utilization` (getUtilization's, as `ipam show --show-blocks`) when it lists the block.
 * Throws HTTP_BAD_REQUEST for a malformed CIDR, HTTP_NOT_FOUND when no such block is claimed,
 * DS_* errors of the read and IPAM_CORRUPT_VALUE for a block that does not decode.
 */
export async function getBlockDetail(
  store: Datastore,
  utilization: readonly PoolUtilization[],
  cidrText: string,
): Promise<BlockDetail> {
  const cidr = tryParseCidr(cidrText);
  if (!cidr)
    throw new CidrpoolError(
      'HTTP_BAD_REQUEST',
      `cidr "${cidrText}" is not a CIDR; expected e.g. 10.0.0.0/26`,
    );
  const text = formatCidr(cidr);
  const [kv, reservationItems] = await Promise.all([
    store.get(blockKey(cidr.family, text)),
    listAll(store, resourcePrefix('IPReservation')),
  ]);
  if (!kv) throw new CidrpoolError('HTTP_NOT_FOUND', `no block ${text} is claimed`);
  const block = decodeBlock(kv.value, kv.key);
  const reservations = reservationsOf(reservationItems);
  const addresses: BlockAddress[] = [];
  block.allocations.forEach((idx, ordinal) => {
    if (idx === null) return;
    const attr = block.attributes[idx];
    const ip = ordinalToIp(block, ordinal);
    const sec = attr?.secondary ?? {};
    addresses.push({
      ip: formatIp(ip),
      ...(attr?.handleId !== undefined ? { handle: attr.handleId } : {}),
      ...(sec.pod !== undefined ? { pod: sec.pod } : {}),
      ...(sec.namespace !== undefined ? { namespace: sec.namespace } : {}),
      ...(sec.node !== undefined ? { node: sec.node } : {}),
      ...(sec.timestamp !== undefined ? { timestamp: sec.timestamp } : {}),
      reserved: reservations.matchesIp(ip) || isReservedHandle(attr),
      coolingDown: attr?.releasedAt !== undefined,
    });
  });
  let pool: string | undefined;
  let counted: { capacity: bigint; inUse: bigint } | undefined;
  for (const g of utilization) {
    const b = g.blocks.find((x) => x.cidr === block.cidr);
    if (b) {
      pool = g.name;
      counted = b;
      break;
    }
  }
  const capacity = cidrSize(cidr);
  return {
    cidr: block.cidr,
    affinity: block.affinity ?? '',
    ...(pool !== undefined ? { pool } : {}),
    capacity: Number(counted?.capacity ?? capacity),
    // A block claimed since the last rebuild: its allocated ordinals, as getUtilization counts.
    inUse: Number(counted?.inUse ?? block.allocations.length - block.unallocated.length),
    reservedByReservations: Number(capacity - sizeMinus(cidr, reservations.cidrs)),
    addresses,
  };
}
