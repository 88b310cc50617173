// `cidrpool label KIND NAME key=value [--overwrite] | key --remove` (surfaces.md §1.5). KIND and
// NAME are echoed as typed.
import type { Command } from 'commander';
import { CidrpoolError, isCidrpoolError } from '../../errors/index.js';
import type { Resource } from '../../resources/types.js';
import { withBackend } from '../backend.js';
import { errorMessage } from '../errors.js';
import { printLines } from '../io.js';
import { resolveKind } from '../kinds.js';
import { resolveNamespace } from '../namespaces.js';
import { addDatastoreOptions, addNamespaceOption, kindHelp } from '../options.js';

interface LabelOptions {
  readonly overwrite?: boolean;
  readonly remove?: boolean;
  readonly namespace?: string;
  readonly config?: string;
}

const fail = (message: string): never => {
  throw new CidrpoolError('CLI_RESOURCES_FAILED', message);
};

async function runLabel(
  kindArg: string,
  name: string,
  label: string,
  options: LabelOptions,
): Promise<void> {
  const kind = resolveKind(kindArg);
  if (name === '') throw new CidrpoolError('CLI_USAGE', 'resource name may not be empty');
  const what = `${kindArg} ${name}`;
  let key = label;
  let value: string | undefined;
  if (!options.remove) {
    const parts = label.split('=');
    if (parts.length !== 2) throw new CidrpoolError('CLI_USAGE', `invalid label ${label}`);
    [key, value] = parts as [string, string];
  }
  const namespace = resolveNamespace(kind, options);
  const message = await withBackend(options, async (backend) => {
    let resource: Resource;
    try {
      resource = await backend.client.get(kind, name, namespace);
    } catch (err) {
      if (isCidrpoolError(err, 'CLIENT_NOT_FOUND')) return fail(`${what} not found`);
      return fail(`failed to get ${what}, error ${errorMessage(err)}`);
    }
    const labels = { ...(resource.metadata.labels ?? {}) };
    let done: string;
    if (options.remove) {
      if (!(key in labels)) fail(`cannot remove label of ${what}, key ${key} does not exist`);
      delete labels[key];
      done = `Successfully removed label ${key} from ${what}`;
    } else if (key in labels) {
      if (labels[key] !== value && !options.overwrite) {
        fail(
          `failed to update label of ${what}, key ${key} is already present. please use '--overwrite' to set a new value`,
        );
      }
      labels[key] = value!;
      done = `Successfully updated label ${key} on ${what}`;
    } else {
      labels[key] = value!;
      done = `Successfully set label ${key} on ${what}`;
    }
    resource.metadata = { ...resource.metadata, labels };
    try {
      await backend.client.update(resource);
    } catch (err) {
      // calicoctl's line, then why (e.g. an invalid label key), indented below it.
      throw new CidrpoolError(
        'CLI_RESOURCES_FAILED',
        `failed to update ${what}, label not changed`,
        {
          cause: err,
          issues: isCidrpoolError(err) ? err.issues : [],
        },
      );
    }
    return done;
  });
  printLines([message]);
}

/** Register `label`. */
export function addLabelCommand(program: Command): void {
  const command = program
    .command('label')
    .description('Add or update labels on a resource.')
    .argument('<KIND>', 'resource type')
    .argument('<NAME>', 'resource name')
    .argument('<LABEL>', 'key=value to set, or key with --remove')
    .option('--overwrite', 'replace the value of an existing key')
    .option('--remove', 'remove the key');
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.addHelpText('after', kindHelp());
  command.action((kind: string, name: string, label: string, options: LabelOptions) =>
    runLabel(kind, name, label, options),
  );
}
