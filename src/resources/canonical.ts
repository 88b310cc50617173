// Calico's JSON form of a resource: keys in Go declaration order (kind, apiVersion, metadata,
// spec, status), and the IPPool fields that Go marks `omitempty` left out when false or empty.
// The client stores this form, so our keys hold what libcalico would write.
import { isPlainObject, type Shape } from './schema/shape.js';
import { OBJECT_META, shapeOfKind } from './schema/kinds.js';
import type { Resource } from './types.js';

const TOP_ORDER = ['kind', 'apiVersion', 'metadata', 'spec', 'status'];
const POOL_OMIT_FALSE = new Set(['natOutgoing', 'disabled', 'disableBGPExport']);

/** Copy `value` with object keys in schema order (unknown keys after), dropping null/undefined. */
function ordered(value: unknown, shape: Shape | undefined): unknown {
  if (Array.isArray(value)) {
    const items = shape?.type === 'array' ? shape.items : undefined;
    return value.map((v) => ordered(v, items));
  }
  if (!isPlainObject(value)) return value;
  const fields = shape?.type === 'object' ? shape.fields : {};
  const keys = [
    ...Object.keys(fields).filter((k) => Object.hasOwn(value, k)),
    ...Object.keys(value).filter((k) => !Object.hasOwn(fields, k)),
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = value[k];
    if (v === undefined || v === null) continue;
    out[k] = ordered(v, shape?.type === 'map' ? shape.values : fields[k]);
  }
  return out;
}

/**
 * A copy of `resource` in Calico's JSON form (see above). Does not default or validate; the
 * metadata keeps only the keys present (resourceVersion included, if set).
 */
export function canonicalizeResource<R extends Resource>(resource: R): R {
  const shape = shapeOfKind(resource.kind);
  const fields = shape.type === 'object' ? shape.fields : {};
  const out: Record<string, unknown> = {};
  const source = resource as unknown as Record<string, unknown>;
  for (const k of [...TOP_ORDER, ...Object.keys(source).filter((k) => !TOP_ORDER.includes(k))]) {
    const v = source[k];
    if (v === undefined || v === null) continue;
    out[k] = ordered(v, k === 'metadata' ? OBJECT_META : fields[k]);
  }
  if (resource.kind === 'IPPool' && isPlainObject(out.spec)) {
    const spec = out.spec;
    for (const [k, v] of Object.entries(spec)) {
      if ((POOL_OMIT_FALSE.has(k) && v === false) || v === '') delete spec[k];
    }
  }
  return out as unknown as R;
}
