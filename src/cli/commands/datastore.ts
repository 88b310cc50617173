// `cidrpool datastore migrate lock|unlock`: the datastore lock of `ipam split` and
// `ipam release --from-report` (ClusterInformation datastoreReady, as calicoctl). cidrpool has no
// export/import: the embedded store is one SQLite file and etcd has its own snapshot tools.
import type { Command } from 'commander';
import { withBackend } from '../backend.js';
import { setDatastoreReady } from '../cluster-info.js';
import { printLines } from '../io.js';
import { addDatastoreOptions } from '../options.js';

async function runLock(locked: boolean, options: { config?: string }): Promise<void> {
  await withBackend(options, (backend) => setDatastoreReady(backend.store, !locked));
  printLines([locked ? 'Datastore locked.' : 'Datastore unlocked.']);
}

/** Register `datastore migrate lock|unlock`. */
export function addDatastoreCommand(program: Command): void {
  const datastore = program.command('datastore').description('Datastore management.');
  const migrate = datastore
    .command('migrate')
    .description('Lock or unlock the datastore for maintenance.');
  addDatastoreOptions(
    migrate
      .command('lock')
      .description(
        'Lock the datastore (ClusterInformation datastoreReady=false): needed by ipam split and ipam release --from-report.',
      ),
  ).action((options: { config?: string }) => runLock(true, options));
  addDatastoreOptions(
    migrate.command('unlock').description('Unlock the datastore (datastoreReady=true).'),
  ).action((options: { config?: string }) => runLock(false, options));
}
