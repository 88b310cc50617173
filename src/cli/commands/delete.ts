// `cidrpool delete`: by kind and names, or every resource named in -f (surfaces.md §1.5).
import type { Command } from 'commander';
import { CidrpoolError, isCidrpoolError } from '../../errors/index.js';
import type { Resource, ResourceKind } from '../../resources/types.js';
import { finishBatch, isUnavailable, runOnFile } from '../batch.js';
import { withBackend, type Backend } from '../backend.js';
import { errorMessage } from '../errors.js';
import { resolveKind } from '../kinds.js';
import { resolveNamespace } from '../namespaces.js';
import {
  addDatastoreOptions,
  addFileOptions,
  addNamespaceOption,
  kindHelp,
  type ResourceCommandOptions,
} from '../options.js';
import { reportDelete, type Outcome } from '../output/batch-messages.js';

interface DeleteOptions extends ResourceCommandOptions {
  readonly skipNotExists?: boolean;
}

async function deleteOne(
  backend: Backend,
  kind: ResourceKind,
  name: string,
  namespace: string | undefined,
  resourceVersion: string | undefined,
  skipNotExists: boolean,
): Promise<void> {
  try {
    await backend.client.delete(kind, name, namespace, resourceVersion || undefined);
  } catch (err) {
    if (skipNotExists && isCidrpoolError(err, 'CLIENT_NOT_FOUND')) return;
    throw err;
  }
}

async function runDelete(
  kindArg: string | undefined,
  names: string[],
  options: DeleteOptions,
): Promise<void> {
  const skip = Boolean(options.skipNotExists);
  if (options.filename) {
    if (kindArg)
      throw new CidrpoolError('CLI_USAGE', 'give either <KIND> <NAME>... or -f, not both');
    const result = await runOnFile(
      { ...options, filename: options.filename },
      (backend, r: Resource) =>
        deleteOne(
          backend,
          r.kind,
          r.metadata.name,
          r.metadata.namespace,
          r.metadata.resourceVersion,
          skip,
        ),
    );
    if (result) finishBatch(reportDelete(result.outcomes));
    return;
  }
  if (!kindArg || names.length === 0) {
    throw new CidrpoolError('CLI_USAGE', 'give <KIND> <NAME>... or -f <FILENAME>');
  }
  const kind = resolveKind(kindArg);
  if (names.some((n) => n === ''))
    throw new CidrpoolError('CLI_USAGE', 'resource name may not be empty');
  const outcomes = await withBackend(options, async (backend) => {
    const outcomes: Outcome[] = [];
    for (const name of names) {
      try {
        const namespace = resolveNamespace(kind, options);
        await deleteOne(backend, kind, name, namespace, undefined, skip);
        outcomes.push({ kind });
      } catch (err) {
        if (isUnavailable(err)) throw err;
        outcomes.push({ kind, error: errorMessage(err) });
      }
    }
    return outcomes;
  });
  finishBatch(reportDelete(outcomes));
}

/** Register `delete`. */
export function addDeleteCommand(program: Command): void {
  const command = program
    .command('delete')
    .description('Delete resources identified by file or stdin, or by type and name.')
    .argument('[KIND]', 'resource type')
    .argument('[NAME...]', 'names of the resources to delete')
    .option('-s, --skip-not-exists', 'treat a resource that does not exist as deleted');
  addFileOptions(command, false);
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.addHelpText('after', kindHelp());
  command.action((kind: string | undefined, names: string[], options: DeleteOptions) =>
    runDelete(kind, names, options),
  );
}
