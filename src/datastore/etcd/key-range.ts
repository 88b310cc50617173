// Keys as etcd sees them: UTF-8 bytes, ranges as [key, range_end) the way etcdctl's --prefix
// computes them, so paging and ordering match what etcd itself returns.
import { encodeKey, prefixEnd } from '../key-bytes.js';

/** etcd's "all keys" range end: a single zero byte. */
const ALL_KEYS_END = Buffer.from([0]);

/** True for the "\0" range end, which etcd reads as "up to the last key". */
const isAllKeysEnd = (end: Buffer): boolean => end.length === 1 && end[0] === 0;

/**
 * The range_end that selects every key starting with `prefix` (clientv3.GetPrefixRangeEnd):
 * the prefix with its last byte below 0xff incremented and any 0xff bytes after it dropped.
 * An empty prefix, or one made only of 0xff bytes, ends at "\0", which etcd reads as "no end".
 */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  return prefixEnd(prefix) ?? ALL_KEYS_END;
}

/**
 * The first key of a page: the prefix itself, or the smallest key strictly after `startAfter`
 * (`startAfter` + "\0") when that lies further on. Undefined when `startAfter` is at or past the
 * end of the prefix range, i.e. the page is empty.
 */
export function pageStart(prefix: Buffer, end: Buffer, startAfter?: string): Buffer | undefined {
  if (startAfter === undefined) return prefix;
  const after = Buffer.concat([encodeKey(startAfter), ALL_KEYS_END]);
  if (Buffer.compare(after, prefix) <= 0) return prefix;
  if (!isAllKeysEnd(end) && Buffer.compare(after, end) >= 0) return undefined;
  return after;
}
