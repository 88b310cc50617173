// The Problems view: what `ipam check` found (the engine's CheckReport), each with the cidrpool
// command that fixes it. The counts are the report's; only the list shown is capped.
import type { CheckReport } from '../ipam/index.js';
import type { Problem, ProblemsView } from './api-types.js';

/** At most this many problems are listed (the counts stay exact). */
export const PROBLEM_LIST_LIMIT = 500;

const FROM_REPORT =
  'cidrpool ipam check -o report.json && cidrpool ipam release --from-report=report.json';

/** Parse `Workload(ns/name)` or `Node(name)`. */
function parseOwner(owner: string): { kind: 'workload' | 'node' | 'other'; name: string } {
  const w = /^Workload\((.*)\)$/.exec(owner);
  if (w) return { kind: 'workload', name: w[1]! };
  const n = /^Node\((.*)\)$/.exec(owner);
  if (n) return { kind: 'node', name: n[1]! };
  return { kind: 'other', name: owner };
}

const quote = (s: string): string =>
  /^[\w./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

/** The fix for an address in use without a matching allocation, by who uses it. */
function fixForUnallocated(ip: string, owner: string, inPool: boolean): [string, string] {
  const o = parseOwner(owner);
  if (o.kind === 'workload') {
    const [ns, name] = o.name.includes('/') ? o.name.split('/', 2) : ['default', o.name];
    return inPool
      ? [
          `cidrpool ipam assign --ip=${ip} --namespace ${quote(ns!)} --pod ${quote(name!)} --node <node of the pod>`,
          'records the allocation the endpoint already uses; if the pod is gone, delete its WorkloadEndpoint instead',
        ]
      : [
          `cidrpool delete workloadendpoint ${quote(name!)} -n ${quote(ns!)}`,
          'the address is outside every enabled pool: remove the stale endpoint, or create a pool that covers it (cidrpool create -f pool.yaml)',
        ];
  }
  if (o.kind === 'node')
    return inPool
      ? [
          `cidrpool ipam assign --ip=${ip} --node ${quote(o.name)} --use Tunnel`,
          "records the node's tunnel address in IPAM (the node agent also does this when it restarts)",
        ]
      : [
          `cidrpool get node ${quote(o.name)} -o yaml`,
          'the tunnel address is outside every enabled pool: re-create the pool, or let the node agent pick a new tunnel address',
        ];
  return [`cidrpool ipam show --ip=${ip}`, 'shows who holds the address'];
}

/** Every problem of the report (capped at PROBLEM_LIST_LIMIT), with its fix. */
export function listProblems(report: CheckReport): ProblemsView {
  const items: Problem[] = [];
  let total = 0;
  const add = (p: Problem): void => {
    total++;
    if (items.length < PROBLEM_LIST_LIMIT) items.push(p);
  };
  for (const block of report.invalidBlocks)
    for (const problem of block.problems)
      add({
        kind: 'invalid-block',
        subject: block.cidr,
        text: `IPAM block ${block.cidr} is invalid: ${problem}`,
        fix: `cidrpool ipam check --show-all-ips`,
        fixNote: "lists the block's allocations; a broken block needs a manual repair of its key",
      });
  // leakedIps formats one object per allocation: only read when there are leaks, and only as
  // many as are listed.
  if (report.leakedCount > 0)
    for (const a of report.leakedIps.slice(0, PROBLEM_LIST_LIMIT))
      add({
        kind: 'leaked-ip',
        subject: a.ip,
        text: `${a.ip} leaked (handle ${a.handle ?? '<none>'}${a.node ? `, node ${a.node}` : ''}${a.pod ? `, pod ${a.namespace ?? 'default'}/${a.pod}` : ''})`,
        fix: `cidrpool ipam release --ip=${a.ip}`,
        fixNote: `allocated in IPAM but used by no workload or node; to release every leak safely at once: ${FROM_REPORT}`,
      });
  for (const ip of report.multipleOwners)
    add({
      kind: 'multiple-owners',
      subject: ip,
      text: `${ip} has multiple owners.`,
      fix: `cidrpool ipam show --ip=${ip}`,
      fixNote: 'shows which owner the allocation records; delete the WorkloadEndpoint of the other',
    });
  for (const u of report.notInPool) {
    const [fix, fixNote] = fixForUnallocated(u.ip, u.owner, false);
    add({
      kind: 'not-in-pool',
      subject: u.ip,
      text: `${u.ip} in use by ${u.owner} is not in any active IP pool.`,
      fix,
      fixNote,
    });
  }
  for (const u of report.noAllocation) {
    const [fix, fixNote] = fixForUnallocated(u.ip, u.owner, true);
    add({
      kind: 'no-allocation',
      subject: u.ip,
      text: `${u.ip} in use by ${u.owner} and in active IPAM pool but has no IPAM allocation.`,
      fix,
      fixNote,
    });
  }
  for (const h of report.leakedHandles)
    add({
      kind: 'leaked-handle',
      subject: h.id,
      text: `${h.id} doesn't have any active IPs.`,
      fix: FROM_REPORT,
      fixNote:
        'deletes the handles that hold no address (and releases leaked addresses); the datastore must be locked, or add --force',
    });
  for (const h of report.missingHandles)
    add({
      kind: 'missing-handle',
      subject: h,
      text: `${h} is in use in a block but doesn't exist.`,
      fix: 'cidrpool ipam check --show-problem-ips',
      fixNote: `not counted as a problem by ipam check; lists the addresses that name ${h}: release those whose workload is gone with cidrpool ipam release --ip=IP`,
    });
  total += Math.max(0, report.leakedCount - PROBLEM_LIST_LIMIT);
  return {
    problemCount: report.problemCount,
    allocationCount: report.allocationCount,
    inUseCount: report.inUseCount,
    handlesWithIps: report.handlesWithIps,
    items,
    omitted: total - items.length,
  };
}
