// `cidrpool ipam <command>`: IP address management (surfaces.md §2).
import type { Command } from 'commander';
import { addIpamAssignCommand } from './ipam-assign.js';
import { addIpamCheckCommand } from './ipam-check.js';
import { addIpamConfigureCommand } from './ipam-configure.js';
import { addIpamReleaseCommand } from './ipam-release.js';
import { addIpamShowCommand } from './ipam-show.js';
import { addIpamSplitCommand } from './ipam-split.js';

/** Register `ipam` and its subcommands. */
export function addIpamCommand(program: Command): void {
  const ipam = program.command('ipam').description('IP address management.');
  addIpamCheckCommand(ipam);
  addIpamReleaseCommand(ipam);
  addIpamShowCommand(ipam);
  addIpamSplitCommand(ipam);
  addIpamConfigureCommand(ipam);
  addIpamAssignCommand(ipam);
}
