// `cidrpool apply -f`: create each resource, or replace it when it exists.
import type { Command } from 'commander';
import { finishBatch, runOnFile } from '../batch.js';
import {
  addDatastoreOptions,
  addFileOptions,
  addNamespaceOption,
  type ResourceCommandOptions,
} from '../options.js';
import { reportBatch } from '../output/batch-messages.js';

async function runApply(options: ResourceCommandOptions & { filename: string }): Promise<void> {
  const result = await runOnFile(options, async (backend, resource) => {
    await backend.client.apply(resource);
  });
  if (!result) return;
  // v3.32.1 prefixes apply's error list with `hit error(s)` (HEAD: `hit error`).
  finishBatch(
    reportBatch({ present: 'apply', past: 'applied' }, result.outcomes, 'hit error(s)'),
    result.details,
  );
}

/** Register `apply`. */
export function addApplyCommand(program: Command): void {
  const command = program
    .command('apply')
    .description('Create a resource if it does not exist; replace it if it does.');
  addFileOptions(command, true);
  addNamespaceOption(command);
  addDatastoreOptions(command);
  command.action((options: ResourceCommandOptions & { filename: string }) => runApply(options));
}
