// Calico's JSON form of a resource: keys in Go declaration order (kind, apiVersion, metadata,
// spec, status; the schema in schema/kinds.ts is the one list of that order), map keys sorted as
// Go's encoding/json sorts them, and the IPPool fields that Go marks `omitempty` left out when
// false or empty. The client stores this form, so our keys hold what libcalico would write.
import { isPlainObject, type Shape } from './schema/shape.js';
import { LIST_SHAPE, shapeOfKind } from './schema/kinds.js';
import { KINDS, type Resource, type ResourceKind } from './types.js';

const POOL_OMIT_FALSE = new Set(['natOutgoing', 'disabled', 'disableBGPExport']);

/**
 * Copy `value` with object keys in schema order (unknown keys after) and map keys sorted. With
 * `dropNull`, null and undefined values are left out.
 */
function ordered(value: unknown, shape: Shape | undefined, dropNull: boolean): unknown {
  if (Array.isArray(value)) {
    const items = shape?.type === 'array' ? shape.items : undefined;
    return value.map((v) => ordered(v, items, dropNull));
  }
  if (!isPlainObject(value)) return value;
  const fields = shape?.type === 'object' ? shape.fields : {};
  const keys =
    shape?.type === 'map'
      ? Object.keys(value).sort()
      : [
          ...Object.keys(fields).filter((k) => Object.hasOwn(value, k)),
          ...Object.keys(value).filter((k) => !Object.hasOwn(fields, k)),
        ];
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = value[k];
    if (v === undefined || (dropNull && v === null)) continue;
    out[k] = ordered(v, shape?.type === 'map' ? shape.values : fields[k], dropNull);
  }
  return out;
}

const LIST_KINDS = new Map<string, ResourceKind>(
  Object.values(KINDS).map((info) => [info.listKind, info.kind]),
);

/**
 * A copy of a resource, a typed List of them, or an array of either, with every key in Calico's
 * struct order (see above); values are not changed. Anything else is returned as it is.
 */
export function orderResourceKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(orderResourceKeys);
  if (!isPlainObject(value) || typeof value.kind !== 'string') return value;
  if (Object.hasOwn(KINDS, value.kind)) {
    return ordered(value, shapeOfKind(value.kind as ResourceKind), false);
  }
  if (LIST_KINDS.has(value.kind) || value.kind === 'List') {
    const out = ordered(value, LIST_SHAPE, false) as Record<string, unknown>;
    if (Array.isArray(out.items)) out.items = out.items.map(orderResourceKeys);
    return out;
  }
  return value;
}

/**
 * A copy of `resource` in Calico's JSON form (see above). Does not default or validate; the
 * metadata keeps only the keys present (resourceVersion included, if set).
 */
export function canonicalizeResource<R extends Resource>(resource: R): R {
  const out = ordered(resource, shapeOfKind(resource.kind), true) as Record<string, unknown>;
  if (resource.kind === 'IPPool' && isPlainObject(out.spec)) {
    const spec = out.spec;
    for (const [k, v] of Object.entries(spec)) {
      if ((POOL_OMIT_FALSE.has(k) && v === false) || v === '') delete spec[k];
    }
  }
  return out as unknown as R;
}

/**
 * Every field name the schemas know (any kind, any depth, list metadata), lower-cased:
 * go-template uses it to tell a Go field that JSON omitted from one that does not exist.
 */
export function schemaFieldNames(): ReadonlySet<string> {
  const names = new Set<string>();
  const walk = (shape: Shape | undefined): void => {
    if (shape?.type === 'array') walk(shape.items);
    else if (shape?.type === 'map') walk(shape.values);
    else if (shape?.type === 'object') {
      for (const [name, field] of Object.entries(shape.fields)) {
        names.add(name.toLowerCase());
        walk(field);
      }
    }
  };
  for (const kind of Object.keys(KINDS) as ResourceKind[]) walk(shapeOfKind(kind));
  walk(LIST_SHAPE);
  return names;
}
