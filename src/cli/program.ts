// The command tree of `cidrpool`, a calicoctl-compatible command line (surfaces.md §1, §2).
import { Command, Option } from 'commander';
import { addApplyCommand } from './commands/apply.js';
import { addConvertCommand } from './commands/convert.js';
import { addCreateCommand } from './commands/create.js';
import { addDatastoreCommand } from './commands/datastore.js';
import { addDeleteCommand } from './commands/delete.js';
import { addGetCommand } from './commands/get.js';
import { addIpamCommand } from './commands/ipam.js';
import { addLabelCommand } from './commands/label.js';
import { addDashboardCommand } from './commands/dashboard.js';
import { addNodeCommand } from './commands/node.js';
import { addPatchCommand } from './commands/patch.js';
import { addReplaceCommand } from './commands/replace.js';
import { addValidateCommand } from './commands/validate.js';
import { addVersionCommand } from './commands/version.js';
import { LOG_LEVELS } from './log.js';

/** Build the command tree. Commands report failure by throwing; main() prints and exits. */
export function buildProgram(): Command {
  const program = new Command('cidrpool');
  program
    .description(
      'Calico-compatible IP pools and IPAM: manage IPPool, IPReservation, IPAMConfiguration, Node, WorkloadEndpoint, BGPConfiguration, BGPPeer and FelixConfiguration resources and IP address assignments.',
    )
    .usage('[options] <command> [<args>...]')
    .addOption(
      new Option(
        '-l, --log-level <level>',
        `log level on stderr: ${LOG_LEVELS.join(', ')}`,
      ).default('panic'),
    )
    .option('--allow-version-mismatch', 'accepted for calicoctl compatibility')
    .option('--context <context>', 'accepted for calicoctl compatibility (there is no kubeconfig)')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (text, write) => write(text) });
  addCreateCommand(program);
  addReplaceCommand(program);
  addApplyCommand(program);
  addPatchCommand(program);
  addDeleteCommand(program);
  addGetCommand(program);
  addLabelCommand(program);
  addValidateCommand(program);
  addConvertCommand(program);
  addIpamCommand(program);
  addDatastoreCommand(program);
  addNodeCommand(program);
  addDashboardCommand(program);
  addVersionCommand(program);
  return program;
}
