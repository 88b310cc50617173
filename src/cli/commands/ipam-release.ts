// `cidrpool ipam release --ip=IP | --from-report=FILE... [--force] | --handle=ID`
// (surfaces.md §2.2; --handle is cidrpool's scripting counterpart of `ipam assign`).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { deleteEndpointAt, deleteEndpointsOfHandle } from '../../client/workload-endpoint.js';
import { handleKey } from '../../datastore/keys.js';
import { CidrpoolError, fileErrorMessage, isCidrpoolError } from '../../errors/index.js';
import { withBackend, type Backend } from '../backend.js';
import {
  decodeReport,
  leakedHandlesInAll,
  leakedInAll,
  staleEndpointsInAll,
  type CheckReportFile,
} from '../check-report.js';
import { getClusterInformation } from '../cluster-info.js';
import { errorMessage } from '../errors.js';
import { printLines, writeOut } from '../io.js';
import { parseIpArg } from '../ip-arg.js';
import { addDatastoreOptions, collect } from '../options.js';
import { startProgress } from '../progress.js';
import { clientVersion } from './version.js';

interface ReleaseOptions {
  readonly ip?: string;
  readonly fromReport: string[];
  readonly force?: boolean;
  readonly handle?: string;
  readonly config?: string;
}

async function releaseIp(backend: Backend, ip: string): Promise<void> {
  const result = await backend.ipam.releaseIps([{ address: ip }]);
  const failure = result.failures[0];
  if (failure)
    throw new CidrpoolError('CLI_USAGE', `error: ${errorMessage(failure.error)}`, {
      cause: failure.error,
    });
  if (result.unallocated.length > 0) {
    throw new CidrpoolError('CLI_NOT_ASSIGNED', `IP address ${ip} is not assigned`);
  }
  printLines([`Successfully released IP address ${ip}`]);
}

/**
 * The endpoints first, then the addresses: a release killed half-way leaves addresses without
 * an endpoint (run it again), never an endpoint on addresses another pod may get.
 */
async function releaseHandle(backend: Backend, handleId: string): Promise<void> {
  let held: string[];
  try {
    held = await backend.ipam.ipsByHandle(handleId);
  } catch (err) {
    throw new CidrpoolError('CLI_NOT_ASSIGNED', `error: ${errorMessage(err)}`, { cause: err });
  }
  // The pod's namespace, from its allocation, narrows the endpoint search to one namespace.
  const attrs = held[0] ? await backend.ipam.getAssignmentAttributes(held[0]) : undefined;
  const endpoints = await deleteEndpointsOfHandle(backend.store, handleId, attrs?.attrs.namespace);
  let released: string[];
  try {
    released = await backend.ipam.releaseByHandle(handleId);
  } catch (err) {
    throw new CidrpoolError('CLI_NOT_ASSIGNED', `error: ${errorMessage(err)}`, { cause: err });
  }
  printLines([
    ...released.map((ip) => `Successfully released IP address ${ip}`),
    ...endpoints.map((name) => `Deleted WorkloadEndpoint ${name}`),
  ]);
}

async function readReport(path: string): Promise<CheckReportFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const message = fileErrorMessage('open', path, err);
    throw new CidrpoolError('CLI_REPORT', `failed to read report ${path}: ${message}`, {
      cause: err,
    });
  }
  try {
    return decodeReport(text);
  } catch (err) {
    throw new CidrpoolError('CLI_REPORT', `failed to read report ${path}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** The report checks of calicoctl, in its order; warnings are printed when --force overrides. */
async function checkReports(
  backend: Backend,
  files: string[],
  reports: CheckReportFile[],
  force: boolean,
): Promise<void> {
  const { info, revision } = await getClusterInformation(backend.store);
  const refuse = (message: string): never => {
    throw new CidrpoolError('CLI_REPORT', message);
  };
  reports.forEach((report, i) => {
    if (report.clusterGUID !== info.spec.clusterGUID) {
      refuse(
        `cluster does not match the provided report (${files[i]}): mismatched cluster GUID. Refusing to release`,
      );
    }
  });
  reports.forEach((report, i) => {
    if (report.version === clientVersion()) return;
    if (!force) {
      refuse(
        `the provided report (${files[i]}) was produced using a different version (${report.version}) of calicoctl. Refusing to release`,
      );
    }
    printLines([
      'WARNING: Report was produced using a different version of calicoctl. Ignoring due to --force option',
    ]);
  });
  if (!reports.some((r) => r.clusterInformationRevision === revision)) {
    refuse(
      'the provided reports are all stale - at least one should be up-to-date. Please generate a new report while the data store is locked and try again',
    );
  }
  if (info.spec.datastoreReady) {
    if (!force) {
      throw new CidrpoolError(
        'CLI_NOT_LOCKED',
        'data store is not locked. Either lock the data store, or re-run with --force',
      );
    }
    printLines(['WARNING: Data store is not locked. Ignoring due to --force option']);
  }
}

async function releaseFromReports(
  backend: Backend,
  files: string[],
  force: boolean,
): Promise<void> {
  const reports: CheckReportFile[] = [];
  for (const file of files) reports.push(await readReport(file));
  await checkReports(backend, files, reports, force);

  // Stale endpoints first (cidrpool's addition): each is deleted only if unchanged since the
  // report, so an endpoint rewritten meanwhile by an ADD is kept.
  const stale = staleEndpointsInAll(reports);
  if (stale.length > 0) {
    printLines([`Deleting ${stale.length} stale workload endpoints...`]);
    let removed = 0;
    for (const e of stale)
      if (await deleteEndpointAt(backend.store, e.name, e.namespace, e.revision)) removed++;
    printLines([
      `Deleted ${removed} stale workload endpoints; ${stale.length - removed} skipped (changed or gone).`,
    ]);
  }

  // As calicoctl: a failed release is reported on stdout and the handles are still cleaned up;
  // cidrpool then exits 1 (calicoctl exits 0).
  let failed = false;
  const leaked = leakedInAll(reports);
  if (leaked.length === 0) printLines(["Report didn't contain any leaked IPs to clean up."]);
  else {
    printLines([`Releasing ${leaked.length} old IPs...`]);
    const progress = startProgress('Releasing', 1);
    const result = await backend.ipam.releaseIps(
      leaked.map((a) => ({
        address: a.ip,
        handleId: a.handle,
        sequenceNumber: a.sequenceNumber === undefined ? undefined : BigInt(a.sequenceNumber),
      })),
    );
    progress.stop();
    if (result.failures.length > 0) {
      failed = true;
      const err = result.failures.map((f) => `${f.blockCidr}: ${errorMessage(f.error)}`).join('; ');
      printLines([
        `An error occurred while releasing some IPs: ${err}.  Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.`,
      ]);
    } else printLines([`Released ${result.released.length} IPs successfully`]);
    if (result.unallocated.length > 0) {
      printLines([
        `${result.unallocated.length} addresses marked as leaked in the report had already been cleaned up.`,
      ]);
    }
  }

  const handles = leakedHandlesInAll(reports);
  if (handles.length === 0) printLines(["Report didn't contain any handles to clean up."]);
  else {
    printLines([
      `Deleting ${handles.length} handles...`,
      "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.",
    ]);
    let deleted = 0;
    let skipped = 0;
    let errors = 0;
    for (const handle of handles) {
      try {
        await backend.store.delete(handleKey(handle.ID), handle.Revision);
        deleted++;
        writeOut('.');
      } catch (err) {
        if (isCidrpoolError(err, 'DS_NOT_FOUND', 'DS_CONFLICT')) {
          skipped++;
          writeOut('x');
        } else {
          errors++;
          writeOut(`\nDeleting handle ${handle.ID} failed: ${errorMessage(err)}.\n`);
        }
      }
    }
    writeOut('\n');
    printLines([`Released ${deleted} handles; ${skipped} skipped; ${errors} errors.`]);
  }
  printLines(['You may now unlock the data store.']);
  // The message is already on stdout; only the exit status is left to set.
  if (failed) throw new CidrpoolError('CLI_REPORT', '');
}

async function runRelease(options: ReleaseOptions): Promise<void> {
  const modes = [
    options.ip !== undefined,
    options.fromReport.length > 0,
    options.handle !== undefined,
  ];
  if (modes.filter(Boolean).length > 1) {
    throw new CidrpoolError('CLI_USAGE', 'use only one of --ip, --from-report and --handle');
  }
  // calicoctl does nothing, successfully, without --ip or --from-report.
  if (modes.every((m) => !m)) return;
  const ip = options.ip !== undefined ? parseIpArg(options.ip) : undefined;
  await withBackend(options, async (backend) => {
    if (ip !== undefined) return releaseIp(backend, ip);
    if (options.handle !== undefined) return releaseHandle(backend, options.handle);
    return releaseFromReports(backend, options.fromReport, Boolean(options.force));
  });
}

/** Register `ipam release`. */
export function addIpamReleaseCommand(ipam: Command): void {
  const command = ipam
    .command('release')
    .description('Release a Calico assigned IP address.')
    .option('--ip <IP>', 'release this address (endpoints using it are not touched, as calicoctl)')
    .option(
      '--from-report <REPORT>',
      'release the leaks and delete the stale endpoints found by `ipam check -o REPORT` (repeatable; needs a locked datastore)',
      collect,
      [],
    )
    .option(
      '--force',
      'with --from-report: accept a report of another version, or an unlocked datastore',
    )
    .option(
      '--handle <ID>',
      "release every address of a handle and delete its pod's WorkloadEndpoint",
    );
  addDatastoreOptions(command);
  command.action((options: ReleaseOptions) => runRelease(options));
}
