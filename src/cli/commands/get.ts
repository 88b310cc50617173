// `cidrpool get`: show resources by kind and name(s), or those named in -f (surfaces.md §1.6).
import type { Command } from 'commander';
import { CidrpoolError } from '../../errors/index.js';
import type { Resource, ResourceKind } from '../../resources/types.js';
import { withBackend, type Backend } from '../backend.js';
import { silentFailure } from '../batch.js';
import { errorMessage } from '../errors.js';
import { printErrLines, writeOut } from '../io.js';
import { resolveKind } from '../kinds.js';
import { loadResources } from '../manifests.js';
import { resolveNamespace } from '../namespaces.js';
import {
  addDatastoreOptions,
  addFileOptions,
  addNamespaceOption,
  kindHelp,
  type ResourceCommandOptions,
} from '../options.js';
import type { CellContext } from '../output/columns.js';
import { parseOutputFormat, renderObjects, toList, type Printable } from '../output/format.js';

interface GetOptions extends ResourceCommandOptions {
  readonly output: string;
  readonly export?: boolean;
  readonly a?: boolean;
}

/** What to fetch: one kind, optionally some names, in one namespace (or all). */
interface Query {
  readonly kind: ResourceKind;
  readonly name?: string;
  readonly namespace?: string;
}

/** --export: drop the fields that tie an object to one datastore. */
function exported(resource: Resource): Resource {
  const copy = structuredClone(resource);
  const meta = copy.metadata as unknown as Record<string, unknown>;
  for (const key of [
    'namespace',
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ]) {
    delete meta[key];
  }
  return copy;
}

async function fetchQuery(backend: Backend, query: Query, doExport: boolean): Promise<Printable> {
  if (query.name === undefined) {
    const listed = await backend.client.list(query.kind, query.namespace);
    return toList(query.kind, listed.items, listed.revision);
  }
  const resource = await backend.client.get(query.kind, query.name, query.namespace);
  return doExport ? exported(resource) : resource;
}

/**
 * The global AS of the Node table (calicoctl: BGPConfiguration `default` spec.asNumber, 64512 when
 * the resource or the field is absent, `unknown` when it cannot be read).
 */
async function cellContext(backend: Backend): Promise<CellContext> {
  try {
    const config = await backend.client.find('BGPConfiguration', 'default');
    const asNumber = config?.kind === 'BGPConfiguration' ? config.spec.asNumber : undefined;
    return { globalAsNumber: String(asNumber ?? 64512) };
  } catch {
    return { globalAsNumber: 'unknown' };
  }
}

/** The queries of `get KIND [NAME...]`. */
function queriesFromArgs(kindArg: string, names: string[], options: GetOptions): Query[] {
  let kind: ResourceKind;
  try {
    kind = resolveKind(kindArg);
  } catch (err) {
    throw new CidrpoolError(
      'CLI_UNSUPPORTED_KIND',
      `failed to get resources: ${errorMessage(err)}`,
    );
  }
  if (names.some((n) => n === ''))
    throw new CidrpoolError('CLI_USAGE', 'resource name may not be empty');
  if (names.length > 0 && options.allNamespaces) {
    throw new CidrpoolError(
      'CLI_NAMESPACE',
      'cannot use --all-namespace flag for getting a single resource',
    );
  }
  const namespace = resolveNamespace(kind, options);
  if (names.length === 0) return [{ kind, namespace }];
  return names.map((name) => ({ kind, name, namespace }));
}

async function runGet(
  kindArg: string | undefined,
  names: string[],
  options: GetOptions,
): Promise<void> {
  const format = parseOutputFormat(options.output);
  const flags = { ...options, allNamespaces: options.allNamespaces || options.a };
  let queries: Query[];
  if (options.filename) {
    if (kindArg)
      throw new CidrpoolError('CLI_USAGE', 'give either <KIND> [<NAME>...] or -f, not both');
    const loaded = await loadResources(options.filename, options);
    if (loaded.resources.length === 0) {
      writeOut('No resources specified\n');
      return;
    }
    queries = loaded.resources.map((r) => ({
      kind: r.kind,
      name: r.metadata?.name || undefined,
      namespace: resolveNamespace(r.kind, flags, r.metadata?.namespace),
    }));
  } else {
    if (!kindArg) throw new CidrpoolError('CLI_USAGE', 'give <KIND> [<NAME>...] or -f <FILENAME>');
    queries = queriesFromArgs(kindArg, names, flags);
  }
  const doExport = Boolean(options.export);
  const { objects, errors, cells } = await withBackend(options, async (backend) => {
    const objects: Printable[] = [];
    const errors: string[] = [];
    for (const query of queries) {
      try {
        objects.push(await fetchQuery(backend, query, doExport));
      } catch (err) {
        if (query.name === undefined) {
          throw new CidrpoolError('CLI_USAGE', `failed to get resources: ${errorMessage(err)}`, {
            cause: err,
          });
        }
        errors.push(errorMessage(err));
      }
    }
    const needsAs = format.type === 'go-template' || queries.some((q) => q.kind === 'Node');
    const cells = needsAs ? await cellContext(backend) : undefined;
    return { objects, errors, cells };
  });
  const withNamespace = Boolean(flags.namespace || flags.allNamespaces);
  writeOut(renderObjects(objects, format, { withNamespace, cells }));
  if (errors.length > 0) {
    printErrLines(errors);
    throw silentFailure();
  }
}

/** Register `get`. */
export function addGetCommand(program: Command): void {
  const command = program
    .command('get')
    .description('Show resources identified by file or stdin, or by type and name.')
    .argument('[KIND]', 'resource type, e.g. ippool, ipreservation, node, wep, ipamconfig')
    .argument('[NAME...]', 'resource names; none lists every resource of the type')
    .option(
      '-o, --output <OUTPUT>',
      'ps, wide, yaml, json, custom-columns=COL1,COL2, go-template=TEMPLATE or go-template-file=FILE',
      'ps',
    )
    .option('-A, --all-namespaces', 'list namespaced resources of every namespace')
    .option('-a', 'legacy spelling of --all-namespaces')
    .option('--export', 'with names: drop namespace, uid, resourceVersion and timestamps');
  addFileOptions(command, false);
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.addHelpText('after', kindHelp());
  command.action((kind: string | undefined, names: string[], options: GetOptions) =>
    runGet(kind, names, options),
  );
}
