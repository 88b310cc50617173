// Prefix queries as byte ranges, the way etcd computes `--prefix` range ends, so that keys stored
// as BLOBs (compared with memcmp by SQLite) list in the same order as etcd returns them.
import { encodeKey, prefixEnd } from '../key-bytes.js';

/** A half-open byte range [start, end); `end` undefined means "to the last key". */
export interface KeyRange {
  readonly start: Buffer;
  readonly end: Buffer | undefined;
}

/**
 * The byte range of every key that starts with `prefix` (see prefixEnd). An empty prefix (or one
 * made only of 0xff bytes) has no end.
 */
export function prefixRange(prefix: string): KeyRange {
  const start = encodeKey(prefix);
  return { start, end: prefixEnd(start) };
}
