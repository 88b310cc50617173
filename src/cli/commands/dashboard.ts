// `cidrpool dashboard`: the web dashboard is its own entry room (src/http); the command line only
// parses the flags and hands over, loading the server's code when it is used.
import type { Command } from 'commander';
import { addDatastoreOptions } from '../options.js';

/** Register `dashboard`. */
export function addDashboardCommand(program: Command): void {
  addDatastoreOptions(
    program
      .command('dashboard')
      .description(
        'Serve a live, read-only web dashboard of every pool, block, node and address (until Ctrl-C).',
      )
      .option(
        '--listen <ADDR:PORT>',
        'address and port to serve on; a non-loopback address needs --token-file',
        '127.0.0.1:9180',
      )
      .option(
        '--token-file <FILE>',
        'file whose first line is a bearer token (16+ characters) the page must present',
      )
      .option(
        '--state-dir <DIR>',
        'folder where the forecast keeps its samples across restarts (default ${XDG_STATE_HOME:-~/.local/state}/cidrpool/dashboard)',
      ),
  ).action(
    async (flags: { listen?: string; tokenFile?: string; config?: string; stateDir?: string }) => {
      const { runDashboardCommand } = await import('../../http/run.js');
      await runDashboardCommand(flags);
    },
  );
}
