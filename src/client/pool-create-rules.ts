// IPPool rules that need the datastore and run on create only (ipam-core.md §1.3 rules 19, 20).
import { listAll, type Datastore } from '../datastore/api.js';
import { blockCidrFromKey, blocksPrefix, resourcePrefix } from '../datastore/keys.js';
import type { FieldIssue } from '../errors/index.js';
import { cidrsOverlap, formatCidr, tryParseCidr } from '../net/index.js';
import { POOL_MESSAGES, tryParsePoolCidr } from '../resources/index.js';
import type { IPPool } from '../resources/types.js';

/**
 * Issues of rule 19 (the CIDR overlaps another pool, disabled ones included) and rule 20 (an
 * existing block inside the new pool has another prefix length) for a defaulted, valid pool.
 * A stored pool with the same name is skipped: creating it fails as "already exists" instead.
 * This is a read before the write, as in libcalico; the client's guarded transaction
 * (resource-client.ts, createPool) makes concurrent creates re-run it against each other.
 */
export async function findPoolCreateIssues(store: Datastore, pool: IPPool): Promise<FieldIssue[]> {
  const cidr = tryParseCidr(pool.spec.cidr);
  if (!cidr) return [];
  const issues: FieldIssue[] = [];
  for (const kv of await listAll(store, resourcePrefix('IPPool'))) {
    let other: IPPool;
    try {
      other = JSON.parse(kv.value) as IPPool;
    } catch {
      continue; // An unreadable pool cannot be compared; reading it reports the corruption.
    }
    if (other.metadata?.name === pool.metadata.name) continue;
    const otherCidr = tryParsePoolCidr(other.spec?.cidr);
    if (otherCidr && cidrsOverlap(cidr, otherCidr)) {
      issues.push({
        path: 'spec.cidr',
        value: pool.spec.cidr,
        message: POOL_MESSAGES.overlap(pool.metadata.name, other.metadata.name, other.spec.cidr),
      });
    }
  }
  for (const kv of await listAll(store, blocksPrefix(cidr.family))) {
    const text = blockCidrFromKey(kv.key);
    const block = text === undefined ? undefined : tryParseCidr(text);
    if (block && cidrsOverlap(block, cidr) && block.prefix !== pool.spec.blockSize) {
      issues.push({
        path: 'spec.blockSize',
        value: pool.spec.blockSize,
        message: POOL_MESSAGES.blockSizeConflict,
        hint: `block ${formatCidr(block)} already exists inside the pool; use blockSize ${block.prefix}`,
      });
      break;
    }
  }
  return issues;
}
