// `cidrpool create -f`: create each resource; --skip-exists counts existing ones as created.
import type { Command } from 'commander';
import { isCidrpoolError } from '../../errors/index.js';
import { finishBatch, runOnFile } from '../batch.js';
import {
  addDatastoreOptions,
  addFileOptions,
  addNamespaceOption,
  type ResourceCommandOptions,
} from '../options.js';
import { reportBatch } from '../output/batch-messages.js';

interface CreateOptions extends ResourceCommandOptions {
  readonly filename: string;
  readonly skipExists?: boolean;
}

async function runCreate(options: CreateOptions): Promise<void> {
  const result = await runOnFile(options, async (backend, resource) => {
    try {
      await backend.client.create(resource);
    } catch (err) {
      if (options.skipExists && isCidrpoolError(err, 'CLIENT_ALREADY_EXISTS')) return;
      throw err;
    }
  });
  if (!result) return;
  finishBatch(
    reportBatch({ present: 'create', past: 'created' }, result.outcomes, 'hit error'),
    result.details,
  );
}

/** Register `create`. */
export function addCreateCommand(program: Command): void {
  const command = program
    .command('create')
    .description('Create resources from a file, directory or stdin.')
    .option('--skip-exists', 'treat a resource that already exists as created');
  addFileOptions(command, true);
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.action((options: CreateOptions) => runCreate(options));
}
