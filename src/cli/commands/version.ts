// `cidrpool version`: the client version (no datastore needed).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { printLines } from '../io.js';

/** The package version, read from package.json next to dist/. */
export function clientVersion(): string {
  const url = new URL('../../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** Register `version`. */
export function addVersionCommand(program: Command): void {
  program
    .command('version')
    .description("Print the binary's version.")
    .option('-c, --config <CONFIG>', 'accepted for calicoctl compatibility')
    .action(() => {
      printLines([
        `Client Version:    v${clientVersion()}`,
        'API Version:       projectcalico.org/v3',
        'Compatible with:   calicoctl v3.32 (see docs/cli.md)',
      ]);
    });
}
