// JSON as calicoctl prints it (surfaces.md §1.6): Go's encoding/json with a 2-space indent, so
// keys come in struct declaration order (kind, apiVersion, metadata, spec, ...; the order is the
// resource schema's, src/resources/schema/kinds.ts), and no newline follows the last brace.
import { orderResourceKeys } from '../../resources/index.js';

/**
 * Render as calicoctl's JSON output: struct key order, 2-space indent, no trailing newline. Like
 * Go's json.MarshalIndent, `&`, `<` and `>` are escaped (a selector's `&&` prints `\u0026\u0026`).
 */
export function renderJson(value: unknown): string {
  return JSON.stringify(orderResourceKeys(value), null, 2)
    .replace(/&/g, '\\u0026')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
