// Structural checks of plain JSON values: types, enums, integer ranges and unknown fields.
// Hand-written rather than ajv: the checker walks the value itself, so every problem comes back
// with a path (`spec.allowedUses[1]`) that the manifest reader maps to a YAML line and column.
import type { FieldIssue } from '../../errors/index.js';

export type Shape =
  | { readonly type: 'string'; readonly enum?: readonly string[] }
  | { readonly type: 'integer'; readonly min?: number; readonly max?: number }
  | { readonly type: 'boolean' }
  | { readonly type: 'array'; readonly items: Shape }
  | { readonly type: 'object'; readonly fields: Readonly<Record<string, Shape>> }
  | { readonly type: 'map'; readonly values: Shape }
  | { readonly type: 'any' };

export type PathSegment = string | number;

/** A FieldIssue that also keeps the raw path, so a manifest reader can find the YAML node. */
export interface ShapeIssue extends FieldIssue {
  readonly segments: readonly PathSegment[];
  /** True when the field itself is not part of the schema (the key is the problem). */
  readonly unknownField?: boolean;
}

export const UNKNOWN_FIELD_MESSAGE =
  'field in document is not recognized or is in the wrong location';

/** `['spec', 'allowedUses', 1]` -> `spec.allowedUses[1]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

const typeName = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every structural problem of `value` against `shape`. `null` is accepted for any field (Go's
 * decoder turns it into the zero value, and calicoctl output carries `creationTimestamp: null`).
 */
export function checkShape(
  value: unknown,
  shape: Shape,
  segments: readonly PathSegment[] = [],
): ShapeIssue[] {
  if (value === null || value === undefined || shape.type === 'any') return [];
  const issue = (message: string, extra: Partial<ShapeIssue> = {}): ShapeIssue[] => [
    { path: formatPath(segments), segments, value, message, ...extra },
  ];
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') return issue(`must be a string, not ${typeName(value)}`);
      if (shape.enum && !shape.enum.includes(value)) {
        return issue(
          `Unsupported value: ${JSON.stringify(value)}: supported values: ${shape.enum.map((e) => JSON.stringify(e)).join(', ')}`,
        );
      }
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : issue(`must be a boolean, not ${typeName(value)}`);
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return issue(`must be an integer, not ${typeName(value)}`);
      }
      if (
        (shape.min !== undefined && value < shape.min) ||
        (shape.max !== undefined && value > shape.max)
      ) {
        return issue(`must be between ${shape.min ?? '-inf'} and ${shape.max ?? 'inf'}`);
      }
      return [];
    case 'array':
      if (!Array.isArray(value)) return issue(`must be a list, not ${typeName(value)}`);
      return value.flatMap((item, i) => checkShape(item, shape.items, [...segments, i]));
    case 'map':
      if (!isPlainObject(value)) return issue(`must be a map, not ${typeName(value)}`);
      return Object.entries(value).flatMap(([k, v]) =>
        checkShape(v, shape.values, [...segments, k]),
      );
    case 'object': {
      if (!isPlainObject(value)) return issue(`must be an object, not ${typeName(value)}`);
      const out: ShapeIssue[] = [];
      for (const [k, v] of Object.entries(value)) {
        const field = Object.hasOwn(shape.fields, k) ? shape.fields[k] : undefined;
        if (!field) {
          const at = [...segments, k];
          out.push({
            path: formatPath(at),
            segments: at,
            value: k,
            message: `${UNKNOWN_FIELD_MESSAGE}: ${k}`,
            unknownField: true,
          });
        } else out.push(...checkShape(v, field, [...segments, k]));
      }
      return out;
    }
  }
}
