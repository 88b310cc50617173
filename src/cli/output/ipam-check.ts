// The text `calicoctl ipam check` prints (surfaces.md §2.3), from the engine's CheckReport.
import type { CheckAllocation, CheckReport } from '../../ipam/types.js';

const WINDOWS_OWNER = 'Reserved for Windows';

export interface CheckPrintOptions {
  readonly showProblemIps: boolean;
  readonly showAllIps: boolean;
}

const attrText = (attrs: Readonly<Record<string, string>>): string =>
  Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${attrs[k]}`)
    .join(',');

/** `Main:<handle|<none>> Extra:<k=v,...>[ Alternate:<k=v,...>]` */
function describeAttrs(a: CheckAllocation): string {
  const alternate =
    a.alternateAttrs && Object.keys(a.alternateAttrs).length > 0
      ? ` Alternate:${attrText(a.alternateAttrs)}`
      : '';
  return `attrs Main:${a.handle ?? '<none>'} Extra:${attrText(a.attrs)}${alternate}`;
}

/**
 * Every allocation of the report by block CIDR, each list in the order of the report's address
 * map (what filtering the flattened map by block CIDR gives, in one pass).
 */
function allocationsByBlock(report: CheckReport): Map<string, CheckAllocation[]> {
  const byBlock = new Map<string, CheckAllocation[]>();
  for (const list of Object.values(report.allocations)) {
    for (const a of list) {
      const group = byBlock.get(a.blockCidr);
      if (group) group.push(a);
      else byBlock.set(a.blockCidr, [a]);
    }
  }
  return byBlock;
}

/**
 * The whole stdout of `ipam check`, in calicoctl's order: with --show-all-ips, each allocation is
 * listed (`allocated`) under its block as the blocks load, and each in-use address (`belongs to`)
 * under the nodes or workload endpoints it was loaded from; the problem lines follow the scan
 * that finds them (`has multiple owners` under the in-use scan).
 */
export function renderCheck(report: CheckReport, options: CheckPrintOptions): string {
  const showProblems = options.showProblemIps || options.showAllIps;
  const out: string[] = ['Checking IPAM for inconsistencies...', '', 'Loading all IPAM blocks...'];
  out.push(`Found ${report.blocks.length} IPAM blocks.`);
  // Only --show-all-ips lists allocations: the report builds them on first access.
  const byBlock = options.showAllIps ? allocationsByBlock(report) : undefined;
  for (const block of report.blocks) {
    out.push(` IPAM block ${block.cidr} affinity=${block.affinity ?? '<none>'}:`);
    for (const a of byBlock?.get(block.cidr) ?? []) {
      if (a.owners.includes(WINDOWS_OWNER)) out.push(`  ${a.ip} belongs to ${WINDOWS_OWNER}`);
      out.push(`  ${a.ip} allocated; ${describeAttrs(a)}`);
    }
  }
  for (const invalid of report.invalidBlocks) {
    for (const problem of invalid.problems)
      out.push(` IPAM block ${invalid.cidr} is invalid: ${problem}`);
  }
  out.push(`IPAM blocks record ${report.allocationCount} allocations.`, '');
  out.push('Loading all IPAM pools...', ...report.activePools.map((c) => `  ${c}`));
  out.push(`Found ${report.activePools.length} active IP pools.`, '');
  const belongs = (list: CheckReport['nodeTunnelIps']): string[] =>
    options.showAllIps ? list.map((u) => `  ${u.ip} belongs to ${u.owner}`) : [];
  out.push('Loading all nodes.', ...belongs(report.nodeTunnelIps));
  out.push(`Found ${report.nodeTunnelIps.length} node tunnel IPs.`, '');
  // cidrpool has no Kubernetes services, so there is never a load-balancer configuration.
  out.push(
    'Loading all service load balancer IPs.',
    'No configuration for LoadBalancer kubecontroller found, skipping service check',
    '',
  );
  out.push('Loading all workload endpoints.', ...belongs(report.workloadIps));
  out.push(`Found ${report.workloadIps.length} workload IPs.`);
  out.push(`Workloads and nodes are using ${report.inUseCount} IPs.`, '');
  out.push('Loading all handles', 'Looking for top (up to 20) nodes by allocations...');
  for (const top of report.topNodes) out.push(`  ${top.node} has ${top.allocations} allocations`);
  if (report.maxNodeAllocations !== undefined) {
    out.push(
      `Node with most allocations has ${report.maxNodeAllocations}; median is ${report.medianNodeAllocations ?? 0}`,
    );
  }
  out.push('', 'Scanning for IPs that are allocated but not actually in use...');
  if (showProblems)
    for (const a of report.leakedIps) out.push(`  ${a.ip} leaked; ${describeAttrs(a)}`);
  out.push(`Found ${report.leakedCount} IPs that are allocated in IPAM but not actually in use.`);
  out.push('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  if (showProblems) {
    for (const ip of report.multipleOwners) out.push(`  ${ip} has multiple owners.`);
    for (const u of report.notInPool)
      out.push(`  ${u.ip} in use by ${u.owner} is not in any active IP pool.`);
    for (const u of report.noAllocation) {
      out.push(
        `  ${u.ip} in use by ${u.owner} and in active IPAM pool but has no IPAM allocation.`,
      );
    }
  }
  out.push(`Found ${report.notInPool.length} in-use IPs that are not in active IP pools.`);
  out.push(
    `Found ${report.noAllocation.length} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`,
  );
  // cidrpool's addition: an endpoint on an address that another handle holds, or that was
  // released, would send its traffic to the wrong pod (`ipam release --from-report` clears it).
  if (showProblems) {
    for (const e of report.staleEndpoints) {
      if (e.reason === 'foreign')
        out.push(
          `  ${e.ip} in use by Workload(${e.namespace}/${e.name}) is held by handle ${e.handle}.`,
        );
      else if (e.reason === 'released')
        out.push(`  ${e.ip} in use by Workload(${e.namespace}/${e.name}) was released.`);
    }
  }
  out.push(
    `Found ${report.foreignEndpointCount} workload endpoints on IPs that another handle holds or that were released.`,
    '',
  );
  out.push('Scanning for IPAM handles with no matching IPs...');
  if (options.showAllIps)
    for (const h of report.leakedHandles) out.push(`  ${h.id} doesn't have any active IPs.`);
  out.push(
    `Found ${report.leakedHandles.length} handles with no matching IPs (and ${report.handlesWithIps} handles with matches).`,
  );
  out.push('Scanning for IPs with missing handle...');
  if (showProblems)
    for (const h of report.missingHandles)
      out.push(`  ${h} is in use in a block but doesn't exist.`);
  out.push(
    `Found ${report.missingHandles.length} handles mentioned in blocks with no matching handle resource.`,
  );
  out.push(`Check complete; found ${report.problemCount} problems.`);
  return `${out.join('\n')}\n`;
}
