// `cidrpool convert -f FILE [-o yaml|json]`: print the v3 form of calicoctl v1 manifests
// (surfaces.md §5.3; calicoctl ≤3.31). Only `ipPool` converts; no datastore is needed.
import type { Command } from 'commander';
import { parse } from 'yaml';
import { CidrpoolError } from '../../errors/index.js';
import {
  convertV1IpPool,
  formatValidationMessage,
  isPlainObject,
  unknownTypeMessage,
  validateResource,
  type IPPool,
  type V1IpPool,
} from '../../resources/index.js';
import { errorMessage } from '../errors.js';
import { writeOut } from '../io.js';
import { readSourceTexts, splitSource } from '../manifest-files.js';
import { renderJson } from '../output/json.js';
import { renderYaml } from '../output/yaml.js';

interface ConvertOptions {
  readonly filename: string;
  readonly output: string;
  readonly ignoreValidation?: boolean;
}

// v1 kinds calicoctl convert knew; cidrpool only has pools, so the others are refused by name.
const OTHER_V1_KINDS = ['bgpPeer', 'hostEndpoint', 'node', 'policy', 'profile', 'workloadEndpoint'];

/** The v1 objects of every document, in order (arrays unpacked). */
async function readV1Objects(filename: string): Promise<Record<string, unknown>[]> {
  const { texts } = await readSourceTexts(filename, false);
  const objects: Record<string, unknown>[] = [];
  for (const text of texts) {
    for (const doc of splitSource(text)) {
      let value: unknown;
      try {
        value = parse(doc.text);
      } catch (err) {
        throw new CidrpoolError(
          'CLI_USAGE',
          `failed to create resources from file: ${errorMessage(err)}`,
        );
      }
      if (value === null || value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) {
        objects.push(isPlainObject(item) ? item : { kind: undefined });
      }
    }
  }
  return objects;
}

function convertOne(object: Record<string, unknown>): IPPool {
  const { kind, apiVersion } = object;
  if (apiVersion === 'v1' && typeof kind === 'string' && OTHER_V1_KINDS.includes(kind)) {
    throw new CidrpoolError(
      'CLI_USAGE',
      `failed to convert resource: cidrpool converts only ipPool resources, not ${kind}`,
    );
  }
  if (kind !== 'ipPool' || apiVersion !== 'v1') {
    throw new CidrpoolError(
      'CLI_USAGE',
      `failed to create resources from file: ${unknownTypeMessage(kind, apiVersion)}`,
    );
  }
  try {
    return convertV1IpPool(object as unknown as V1IpPool);
  } catch (err) {
    throw new CidrpoolError('CLI_USAGE', `failed to convert resource: ${errorMessage(err)}`, {
      cause: err,
      issues: err instanceof CidrpoolError ? err.issues : undefined,
    });
  }
}

async function runConvert(options: ConvertOptions): Promise<void> {
  const format = options.output === 'yml' ? 'yaml' : options.output;
  if (format !== 'yaml' && format !== 'json') {
    throw new CidrpoolError('CLI_OUTPUT_FORMAT', `unrecognized output format '${options.output}'`);
  }
  const converted = (await readV1Objects(options.filename)).map(convertOne);
  if (!options.ignoreValidation) {
    const issues = converted.flatMap((pool) => validateResource(pool));
    if (issues.length > 0) {
      throw new CidrpoolError(
        'CLI_RESOURCES_FAILED',
        `converted manifest resource(s) failed validation: ${formatValidationMessage(issues)}` +
          "Re-run the command with '--ignore-validation' flag to see the converted output",
        { issues },
      );
    }
  }
  // calicoctl ≤3.31 prints the cleared creationTimestamp as null.
  const printed = converted.map((pool) => ({
    ...pool,
    metadata: { ...pool.metadata, creationTimestamp: null },
  }));
  const value =
    printed.length === 1
      ? printed[0]
      : { apiVersion: 'v1', kind: 'List', items: printed, metadata: {} };
  writeOut(format === 'yaml' ? renderYaml(value) : renderJson(value));
}

/** Register `convert`. */
export function addConvertCommand(program: Command): void {
  program
    .command('convert')
    .description(
      'Convert calicoctl v1 ipPool manifests to v3 IPPools (prints them; changes nothing).',
    )
    .requiredOption('-f, --filename <FILENAME>', 'file of v1 manifests, or - for stdin')
    .option('-o, --output <OUTPUT>', 'yaml or json', 'yaml')
    .option('--ignore-validation', 'print the result even if it fails v3 validation')
    .option('--allow-version-mismatch', 'accepted for calicoctl compatibility')
    .action((options: ConvertOptions) => runConvert(options));
}
