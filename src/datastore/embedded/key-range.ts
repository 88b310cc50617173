// Prefix queries as byte ranges, the way etcd computes `--prefix` range ends, so that keys stored
// as BLOBs (compared with memcmp by SQLite) list in the same order as etcd returns them.

/** The UTF-8 bytes of a key: the form keys are stored and compared in. */
export const encodeKey = (key: string): Buffer => Buffer.from(key, 'utf8');

/** The key text of stored key bytes. */
export const decodeKey = (bytes: Buffer | Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/** A half-open byte range [start, end); `end` undefined means "to the last key". */
export interface KeyRange {
  readonly start: Buffer;
  readonly end: Buffer | undefined;
}

/**
 * The byte range of every key that starts with `prefix`: etcd's GetPrefixRangeEnd, i.e. the
 * prefix with its last byte below 0xff incremented and any 0xff bytes after it dropped.
 * An empty prefix (or one made only of 0xff bytes) has no end.
 */
export function prefixRange(prefix: string): KeyRange {
  const start = encodeKey(prefix);
  for (let i = start.length - 1; i >= 0; i--) {
    if (start[i]! < 0xff) {
      const end = Buffer.from(start.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return { start, end };
    }
  }
  return { start, end: undefined };
}
