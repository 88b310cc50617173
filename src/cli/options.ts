// Flags shared by several commands, spelled as calicoctl spells them.
import type { Command } from 'commander';
import { supportedKindNames } from './kinds.js';

/** -c/--config, --allow-version-mismatch and --context (accepted, no effect). */
export function addDatastoreOptions(command: Command): Command {
  return command
    .option(
      '-c, --config <CONFIG>',
      'path to a CalicoAPIConfig file (YAML or JSON) naming the datastore; default: /etc/calico/calicoctl.cfg when it exists, else DATASTORE_TYPE, ETCD_* and CIDRPOOL_DATA_DIR from the environment, else the embedded store',
    )
    .option(
      '--allow-version-mismatch',
      'accepted for calicoctl compatibility (cidrpool does not compare cluster versions)',
    )
    .option('--context <context>', 'accepted for calicoctl compatibility (there is no kubeconfig)');
}

/** -f/--filename, -R/--recursive, --skip-empty. */
export function addFileOptions(command: Command, required: boolean): Command {
  const describe = 'file, directory (its *.yaml, *.yml and *.json files) or - for stdin';
  (required
    ? command.requiredOption('-f, --filename <FILENAME>', describe)
    : command.option('-f, --filename <FILENAME>', describe)
  )
    .option('-R, --recursive', 'with a directory -f, read its subdirectories too')
    .option(
      '--skip-empty',
      'succeed (printing "No resources specified") when -f holds no resources',
    );
  return command;
}

/** -n/--namespace. */
export function addNamespaceOption(command: Command): Command {
  return command.option(
    '-n, --namespace <NS>',
    'namespace of namespaced resources (WorkloadEndpoint); default: "default"',
  );
}

/** The "Valid resource types are" paragraph of resource command help texts. */
export function kindHelp(): string {
  return `\nValid resource types are:\n${supportedKindNames()
    .map((k) => `    - ${k}`)
    .join('\n')}\n(aliases, in any case: see docs/cli.md)\n`;
}

/** Commander's argument parser for a repeatable option: each value is appended to the list. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Options of the resource commands as commander gives them. */
export interface ResourceCommandOptions {
  readonly config?: string;
  readonly filename?: string;
  readonly recursive?: boolean;
  readonly skipEmpty?: boolean;
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
}
