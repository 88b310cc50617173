// Reading every block for a report (ipam show, ipam check), one page at a time: each page is
// decoded, handed over and dropped, so the decoded blocks of a big cluster die young instead of
// all living until the last one is decoded (which made garbage collection the largest cost).
import { listPages, type Datastore, type KeyValue } from '../datastore/api.js';
import { blocksPrefix } from '../datastore/keys.js';
import { garbageCollect } from './block.js';
import { decodeBlock, type Block } from './model.js';

/** Blocks a page: what listBlocks reads at a time. */
const PAGE_SIZE = 500;

/**
 * Visit every block (both families), decoded, in key order, with its stored key-value. Throws
 * IPAM_CORRUPT_VALUE for a block that does not decode (as listBlocks does) and DS_* errors.
 */
export async function forEachBlock(
  store: Datastore,
  visit: (block: Block, stored: KeyValue) => void,
): Promise<void> {
  for await (const page of listPages(store, blocksPrefix(), { limit: PAGE_SIZE })) {
    for (const kv of page.items) visit(decodeBlock(kv.value, kv.key), kv);
  }
}

/**
 * garbageCollect, skipped (no copy) when no attribute is cooling down. The result is then the
 * block itself: what garbageCollect returns for a valid block; for a block with unreferenced
 * attributes garbageCollect would also compact them, which changes no allocation count.
 */
export const collectCooledDown = (b: Block, cooldownSeconds: number, nowMs: number): Block =>
  b.attributes.some((a) => a.releasedAt !== undefined)
    ? garbageCollect(b, cooldownSeconds, nowMs)
    : b;
