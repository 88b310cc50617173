// `cidrpool ipam show [--ip=IP | --show-blocks | --show-borrowed | --show-configuration]`
// (surfaces.md §2.1). As in v3.32.1 the options are exclusive.
import type { Command } from 'commander';
import { CidrpoolError } from '../../errors/index.js';
import { withBackend } from '../backend.js';
import { writeOut } from '../io.js';
import { parseIpArg } from '../ip-arg.js';
import { addDatastoreOptions } from '../options.js';
import {
  renderAllocation,
  renderBorrowed,
  renderConfiguration,
  renderUtilization,
} from '../output/ipam-show.js';

interface ShowOptions {
  readonly ip?: string;
  readonly showBlocks?: boolean;
  readonly showBorrowed?: boolean;
  readonly showConfiguration?: boolean;
  readonly config?: string;
}

async function runShow(options: ShowOptions): Promise<void> {
  const chosen = [
    options.ip !== undefined,
    options.showBlocks,
    options.showBorrowed,
    options.showConfiguration,
  ];
  if (chosen.filter(Boolean).length > 1) {
    throw new CidrpoolError(
      'CLI_USAGE',
      'use only one of --ip, --show-blocks, --show-borrowed and --show-configuration',
    );
  }
  const ip = options.ip !== undefined ? parseIpArg(options.ip) : undefined;
  const text = await withBackend(options, async ({ ipam }) => {
    if (ip !== undefined) return renderAllocation(ip, await ipam.getAssignmentAttributes(ip));
    if (options.showConfiguration) return renderConfiguration(await ipam.getConfig());
    if (options.showBorrowed) {
      const { borrowed, withoutNode } = await ipam.listBorrowed();
      return renderBorrowed(borrowed, withoutNode);
    }
    return renderUtilization(await ipam.getUtilization(), Boolean(options.showBlocks));
  });
  writeOut(text);
}

/** Register `ipam show`. */
export function addIpamShowCommand(ipam: Command): void {
  const command = ipam
    .command('show')
    .description(
      'Show details of a Calico configuration, assigned IP address, or of overall IP usage.',
    )
    .option('--ip <IP>', 'report whether this IP is assigned, and to whom')
    .option('--show-blocks', 'also list the blocks of each pool')
    .option('--show-borrowed', "list the IPs a node borrowed from another node's block")
    .option('--show-configuration', 'show the IPAM configuration');
  addDatastoreOptions(command);
  command.action((options: ShowOptions) => runShow(options));
}
