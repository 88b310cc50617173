// Keys as both backends store and compare them: UTF-8 bytes in byte order, with prefix ranges
// computed the way etcd computes `--prefix` range ends (clientv3.GetPrefixRangeEnd).

/** The UTF-8 bytes of a key: the form keys are stored and compared in. */
export const encodeKey = (key: string): Buffer => Buffer.from(key, 'utf8');

/** The key text of stored key bytes. */
export const decodeKey = (bytes: Buffer | Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/**
 * The first key after every key that starts with `prefix`: the prefix with its last byte below
 * 0xff incremented and any 0xff bytes after it dropped. Undefined for an empty prefix, or one
 * made only of 0xff bytes: no key lies after all of those.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return undefined;
}
