// `cidrpool validate -f FILE|DIR|-`: offline validation (surfaces.md §1.5, calicoctl 3.32+).
// Unlike calicoctl, which stops at the first document that does not parse, every document is
// read and validated on its own, and every issue is printed with its path, value and hint.
import type { Command } from 'commander';
import { CidrpoolError, formatFieldIssue } from '../../errors/index.js';
import {
  formatValidationMessage,
  readManifests,
  validateResource,
  withDefaults,
} from '../../resources/index.js';
import { describeResource, finishBatch } from '../batch.js';
import { errorMessage } from '../errors.js';
import { writeOut } from '../io.js';
import { readSourceTexts, splitSource, type DocumentText } from '../manifest-files.js';
import { addFileOptions } from '../options.js';
import { reportBatch, type Outcome } from '../output/batch-messages.js';

interface ValidateOptions {
  readonly filename: string;
  readonly recursive?: boolean;
  readonly skipEmpty?: boolean;
}

interface DocumentResult {
  readonly outcomes: Outcome[];
  readonly details: string[];
}

function validateDocument(doc: DocumentText): DocumentResult {
  const where = `${doc.source}: document ${doc.number}`;
  let entries;
  try {
    entries = readManifests(doc.text, doc.source);
  } catch (err) {
    const details = [`${where}:`, `  ${errorMessage(err)}`];
    if (err instanceof CidrpoolError) {
      details.push(...err.issues.map((i) => `  - ${formatFieldIssue(i)}`));
      if (err.excerpt) details.push(...err.excerpt.split('\n').map((l) => `    ${l}`));
    }
    const kind = /^\s*kind:\s*(\S+)/m.exec(doc.text)?.[1] ?? 'unknown';
    return { outcomes: [{ kind, error: errorMessage(err) }], details };
  }
  const outcomes: Outcome[] = [];
  const details: string[] = [];
  for (const entry of entries) {
    const resource = entry.resource;
    const issues = validateResource(withDefaults(resource));
    if (issues.length === 0) {
      outcomes.push({ kind: resource.kind });
      continue;
    }
    outcomes.push({ kind: resource.kind, error: formatValidationMessage(issues) });
    details.push(
      `${where}, line ${entry.position.line}: ${describeResource(resource)}:`,
      ...issues.map((i) => `  - ${formatFieldIssue(i)}`),
    );
  }
  return { outcomes, details };
}

async function runValidate(options: ValidateOptions): Promise<void> {
  const { texts, isDirectory } = await readSourceTexts(
    options.filename,
    options.recursive ?? false,
  );
  const outcomes: Outcome[] = [];
  const details: string[] = [];
  for (const text of texts) {
    for (const doc of splitSource(text)) {
      const result = validateDocument(doc);
      outcomes.push(...result.outcomes);
      details.push(...result.details);
    }
  }
  if (outcomes.length === 0) {
    if (options.skipEmpty) {
      writeOut('No resources specified\n');
      return;
    }
    const what = isDirectory ? 'directory' : 'file';
    throw new CidrpoolError(
      'CLI_NO_RESOURCES',
      `no resources specified in ${what} ${options.filename}`,
    );
  }
  finishBatch(
    reportBatch({ present: 'validate', past: 'validated' }, outcomes, 'hit error(s)'),
    details,
  );
}

/** Register `validate`. */
export function addValidateCommand(program: Command): void {
  const command = program
    .command('validate')
    .description(
      'Validate resources offline, without applying them; prints every issue of every document.',
    );
  addFileOptions(command, true);
  command.option('--allow-version-mismatch', 'accepted for calicoctl compatibility');
  command.action((options: ValidateOptions) => runValidate(options));
}
