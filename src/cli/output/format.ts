// The -o values of `get` and how each renders the fetched objects (surfaces.md §1.6).
import { readFileSync } from 'node:fs';
import { CidrpoolError, fileErrorMessage } from '../../errors/index.js';
import { KINDS, type Resource, type ResourceKind } from '../../resources/types.js';
import { COLUMNS, DEFAULT_CELL_CONTEXT, hasNamespaceColumn, type CellContext } from './columns.js';
import { parseGoTemplate, renderGoTemplate } from './go-template.js';
import { renderJson } from './json.js';
import { renderTabTable } from './tabwriter.js';
import { renderYaml } from './yaml.js';

/** A parsed -o value. */
export type OutputFormat =
  | { readonly type: 'ps' | 'wide' | 'yaml' | 'json' }
  | { readonly type: 'custom-columns'; readonly columns: readonly string[] }
  | { readonly type: 'go-template'; readonly template: string };

/** A List object as calicoctl prints it (`IPPoolList` with items and metadata.resourceVersion). */
export interface ResourceList {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly resourceVersion?: string };
  readonly items: Resource[];
}

/** What `get` prints: single resources or Lists. */
export type Printable = Resource | ResourceList;

/** Parse an -o value; throws CLI_OUTPUT_FORMAT with calicoctl's wording. */
export function parseOutputFormat(value: string): OutputFormat {
  if (value === 'ps' || value === 'wide' || value === 'json') return { type: value };
  if (value === 'yaml' || value === 'yml') return { type: 'yaml' };
  if (value.startsWith('custom-columns=')) {
    const columns = value
      .slice('custom-columns='.length)
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    if (columns.length === 0) {
      throw new CidrpoolError('CLI_OUTPUT_FORMAT', 'need to specify at least one column');
    }
    return { type: 'custom-columns', columns };
  }
  if (value === 'go-template=')
    throw new CidrpoolError('CLI_OUTPUT_FORMAT', 'need to specify a template');
  if (value === 'go-template-file=') {
    throw new CidrpoolError('CLI_OUTPUT_FORMAT', 'need to specify a template file');
  }
  if (value.startsWith('go-template=')) {
    const template = value.slice('go-template='.length);
    parseGoTemplate(template);
    return { type: 'go-template', template };
  }
  if (value.startsWith('go-template-file=')) {
    const path = value.slice('go-template-file='.length);
    let template: string;
    try {
      template = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CidrpoolError('CLI_OUTPUT_FORMAT', fileErrorMessage('open', path, err), {
        cause: err,
      });
    }
    parseGoTemplate(template);
    return { type: 'go-template', template };
  }
  throw new CidrpoolError('CLI_OUTPUT_FORMAT', `unrecognized output format '${value}'`);
}

/** Wrap listed resources in their List kind. */
export function toList(kind: ResourceKind, items: Resource[], revision: string): ResourceList {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: KINDS[kind].listKind,
    metadata: { resourceVersion: revision },
    items,
  };
}

function kindOf(object: Printable): ResourceKind | undefined {
  const kind = object.kind.endsWith('List') ? object.kind.slice(0, -4) : object.kind;
  return kind in COLUMNS ? (kind as ResourceKind) : undefined;
}

/** Headings for a kind, checking custom columns against the kind's column map. */
function headingsFor(kind: ResourceKind, format: OutputFormat, withNamespace: boolean): string[] {
  const columns = COLUMNS[kind];
  if (format.type === 'custom-columns') {
    for (const heading of format.columns) {
      if (!(heading in columns.cells)) {
        const valid = Object.keys(columns.cells).sort().join(', ');
        throw new CidrpoolError(
          'CLI_OUTPUT_FORMAT',
          `unknown heading ${heading}, valid values are: ${valid}`,
        );
      }
    }
    return [...format.columns];
  }
  const base = format.type === 'wide' ? columns.wide : columns.ps;
  return withNamespace && hasNamespaceColumn(kind) ? ['NAMESPACE', ...base] : [...base];
}

/**
 * Render `get` results: one table per object (a List gives one table of its items), or YAML/JSON
 * of the single object, or a sequence/array when there are several.
 */
export function renderObjects(
  objects: readonly Printable[],
  format: OutputFormat,
  options: { readonly withNamespace?: boolean; readonly cells?: CellContext } = {},
): string {
  if (format.type === 'yaml') {
    if (objects.length === 0) return '';
    return renderYaml(objects.length === 1 ? objects[0] : objects);
  }
  if (format.type === 'json') {
    if (objects.length === 0) return '';
    return renderJson(objects.length === 1 ? objects[0] : objects);
  }
  // The template runs once on the whole result slice (a list query is one List object).
  if (format.type === 'go-template') {
    const asNumber = (options.cells ?? DEFAULT_CELL_CONTEXT).globalAsNumber;
    return renderGoTemplate(format.template, objects, asNumber);
  }
  const context = options.cells ?? DEFAULT_CELL_CONTEXT;
  let out = '';
  for (const object of objects) {
    const kind = kindOf(object);
    if (!kind) continue;
    const headings = headingsFor(kind, format, options.withNamespace ?? false);
    const items = 'items' in object ? object.items : [object];
    const cells = COLUMNS[kind].cells;
    const rows = items.map((item) =>
      headings.map((h) =>
        h === 'NAMESPACE' ? (item.metadata.namespace ?? '') : cells[h]!(item, context),
      ),
    );
    out += renderTabTable(headings, rows);
  }
  return out;
}
