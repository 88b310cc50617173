// `cidrpool replace -f`: update existing resources only.
import type { Command } from 'commander';
import { finishBatch, runOnFile } from '../batch.js';
import {
  addDatastoreOptions,
  addFileOptions,
  addNamespaceOption,
  type ResourceCommandOptions,
} from '../options.js';
import { reportReplace } from '../output/batch-messages.js';

async function runReplace(options: ResourceCommandOptions & { filename: string }): Promise<void> {
  const result = await runOnFile(options, async (backend, resource) => {
    await backend.client.update(resource);
  });
  if (!result) return;
  finishBatch(reportReplace(result.outcomes), result.details);
}

/** Register `replace`. */
export function addReplaceCommand(program: Command): void {
  const command = program
    .command('replace')
    .description('Replace resources from a file, directory or stdin.');
  addFileOptions(command, true);
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.action((options: ResourceCommandOptions & { filename: string }) => runReplace(options));
}
