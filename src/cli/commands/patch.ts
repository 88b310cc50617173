// `cidrpool patch KIND NAME -p JSON`: a strategic-merge patch of the stored object
// (surfaces.md §1.5). CRD kinds have no patch strategies, so maps merge key by key, lists are
// replaced, and `null` removes a key; --type is accepted and ignored, as in calicoctl.
import type { Command } from 'commander';
import { CidrpoolError } from '../../errors/index.js';
import { isPlainObject, type Resource } from '../../resources/index.js';
import { withBackend } from '../backend.js';
import { errorMessage } from '../errors.js';
import { printLines } from '../io.js';
import { resolveKind } from '../kinds.js';
import { resolveNamespace } from '../namespaces.js';
import { addDatastoreOptions, addNamespaceOption, kindHelp } from '../options.js';

interface PatchOptions {
  readonly patch: string;
  readonly type?: string;
  readonly namespace?: string;
  readonly config?: string;
}

/** Merge `patch` onto `target` (both plain JSON): maps recursively, other values replace. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

async function runPatch(kindArg: string, name: string, options: PatchOptions): Promise<void> {
  const kind = resolveKind(kindArg);
  if (name === '') throw new CidrpoolError('CLI_USAGE', 'resource name may not be empty');
  const fail = (message: string, cause?: unknown): never => {
    throw new CidrpoolError('CLI_RESOURCES_FAILED', `hit error: ${message}`, { cause });
  };
  let patch: unknown;
  try {
    patch = JSON.parse(options.patch);
  } catch (err) {
    fail(`performing strategic merge patch: ${errorMessage(err)}`, err);
  }
  if (!isPlainObject(patch)) {
    fail('performing strategic merge patch: the patch must be a JSON object');
  }
  const namespace = resolveNamespace(kind, options);
  await withBackend(options, async (backend) => {
    let current: Resource;
    try {
      current = await backend.client.get(kind, name, namespace);
    } catch (err) {
      return fail(errorMessage(err), err);
    }
    const merged = mergePatch(current, patch) as Resource;
    // The patched object keeps its identity even if the patch tries to rename or re-kind it.
    merged.kind = current.kind;
    merged.apiVersion = current.apiVersion;
    merged.metadata = {
      ...merged.metadata,
      name: current.metadata.name,
      namespace: current.metadata.namespace,
    };
    try {
      await backend.client.update(merged);
    } catch (err) {
      fail(`updating existing resource: ${errorMessage(err)}`, err);
    }
  });
  printLines([`Successfully patched 1 '${kind}' resource`]);
}

/** Register `patch`. */
export function addPatchCommand(program: Command): void {
  const command = program
    .command('patch')
    .description('Patch an existing resource in place.')
    .argument('<KIND>', 'resource type')
    .argument('<NAME>', 'resource name')
    .requiredOption('-p, --patch <PATCH>', 'JSON patch, e.g. \'{"spec":{"disabled":true}}\'')
    .option(
      '-t, --type <TYPE>',
      'strategic, json or merge (accepted; a strategic merge is done)',
      'strategic',
    );
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.addHelpText('after', kindHelp());
  command.action((kind: string, name: string, options: PatchOptions) =>
    runPatch(kind, name, options),
  );
}
