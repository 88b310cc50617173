// `cidrpool ipam check [--show-all-ips] [--show-problem-ips] [-o REPORT]` (surfaces.md §2.3).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CidrpoolError, fileErrorMessage } from '../../errors/index.js';
import type { CheckReport } from '../../ipam/types.js';
import { withBackend } from '../backend.js';
import { encodeReport, type CheckReportFile, type ReportAllocation } from '../check-report.js';
import { getClusterInformation } from '../cluster-info.js';
import { writeOut } from '../io.js';
import { addDatastoreOptions } from '../options.js';
import { renderCheck } from '../output/ipam-check.js';
import { startProgress } from '../progress.js';
import { clientVersion } from './version.js';

interface CheckOptions {
  readonly showAllIps?: boolean;
  readonly showProblemIps?: boolean;
  readonly output?: string;
  readonly config?: string;
}

export function toReportFile(
  report: CheckReport,
  cluster: { guid: string; locked: boolean; revision: string; type: string },
): CheckReportFile {
  // A Go map: encoding/json writes its keys in byte order ("10.0.0.10" before "10.0.0.2").
  const allocations: Record<string, ReportAllocation[]> = {};
  const ips = Object.keys(report.allocations).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const ip of ips) {
    const list = report.allocations[ip]!;
    allocations[ip] = list.map((a) => ({
      ip: a.ip,
      handle: a.handle,
      sequenceNumber: a.sequenceNumber,
      pod: a.pod,
      namespace: a.namespace,
      node: a.node,
      type: a.type,
      creationTimestamp: a.creationTimestamp,
      inUse: a.inUse,
      borrowed: a.borrowed || undefined,
      coolingDown: a.coolingDown || undefined,
      owners: a.owners.length > 0 ? [...a.owners] : null,
    }));
  }
  return {
    version: clientVersion(),
    clusterGUID: cluster.guid,
    datastoreLocked: cluster.locked,
    clusterInformationRevision: cluster.revision,
    clusterType: cluster.type,
    allocations,
    leakedHandles:
      report.leakedHandles.length > 0
        ? report.leakedHandles.map((h) => ({ ID: h.id, UID: null, Revision: h.revision }))
        : undefined,
    staleEndpoints:
      report.staleEndpoints.length > 0
        ? report.staleEndpoints.map((e) => ({
            name: e.name,
            namespace: e.namespace,
            revision: e.revision,
            ip: e.ip,
            reason: e.reason,
          }))
        : undefined,
  };
}

async function runCheck(options: CheckOptions): Promise<void> {
  const { report, file } = await withBackend(options, async ({ store, ipam }) => {
    const { info, revision } = await getClusterInformation(store);
    const progress = startProgress('Checking IPAM', 1);
    let report: CheckReport;
    try {
      report = await ipam.check();
    } finally {
      progress.stop();
    }
    // Only -o needs the per-address report (built on demand from the engine's report).
    const file = options.output
      ? toReportFile(report, {
          guid: info.spec.clusterGUID,
          locked: !info.spec.datastoreReady,
          revision,
          type: info.spec.clusterType,
        })
      : undefined;
    return { report, file };
  });
  writeOut(
    renderCheck(report, {
      showProblemIps: Boolean(options.showProblemIps),
      showAllIps: Boolean(options.showAllIps),
    }),
  );
  if (options.output && file) await writeReport(options.output, encodeReport(file));
}

async function writeReport(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, { mode: 0o644 });
  } catch (err) {
    throw new CidrpoolError('CLI_REPORT', fileErrorMessage('open', path, err), { cause: err });
  }
}

/** Register `ipam check`. */
export function addIpamCheckCommand(ipam: Command): void {
  const command = ipam
    .command('check')
    .description('Check the integrity of the IPAM datastructures.')
    .option('--show-all-ips', 'print every IP (implies --show-problem-ips)')
    .option('--show-problem-ips', 'print each problem IP')
    .option('-o, --output <FILE>', 'write a JSON report, for ipam release --from-report')
    .option('--kubeconfig <KUBECONFIG>', 'accepted for calicoctl compatibility (no Kubernetes)');
  addDatastoreOptions(command);
  command.action((options: CheckOptions) => runCheck(options));
}
