// The JSON report of `ipam check -o` and what `ipam release --from-report` needs from it
// (surfaces.md §2.2, §2.3).

/** One allocation in a report (Calico's field names). */
export interface ReportAllocation {
  ip: string;
  handle?: string;
  sequenceNumber?: bigint | number | string;
  pod?: string;
  namespace?: string;
  node?: string;
  type?: string;
  creationTimestamp?: string;
  inUse: boolean;
  borrowed?: boolean;
  coolingDown?: boolean;
  owners: string[] | null;
}

/**
 * A leaked handle in a report: calicoctl's HandleInfo struct has no JSON tags, so the keys are
 * capitalised and UID (a pointer, nil outside Kubernetes) is written as null.
 */
export interface ReportLeakedHandle {
  ID: string;
  UID?: string | null;
  Revision: string;
}

/**
 * A WorkloadEndpoint on an address it does not hold (cidrpool's addition; calicoctl ignores
 * unknown keys): `ipam release --from-report` deletes it if it is still at `revision`.
 */
export interface ReportStaleEndpoint {
  name: string;
  namespace: string;
  revision: string;
  ip: string;
  reason: string;
}

/** The `ipam check -o` report file (calicoctl's keys, plus staleEndpoints). */
export interface CheckReportFile {
  version: string;
  clusterGUID: string;
  datastoreLocked: boolean;
  clusterInformationRevision: string;
  clusterType: string;
  allocations: Record<string, ReportAllocation[]>;
  leakedHandles?: ReportLeakedHandle[];
  staleEndpoints?: ReportStaleEndpoint[];
}

/** Allocations that are leaked (not in use, not cooling down) in every report, keyed by IP. */
export function leakedInAll(reports: readonly CheckReportFile[]): ReportAllocation[] {
  if (reports.length === 0) return [];
  const [first, ...rest] = reports;
  const out: ReportAllocation[] = [];
  for (const [ip, allocations] of Object.entries(first!.allocations)) {
    for (const allocation of allocations) {
      if (allocation.inUse || allocation.coolingDown) continue;
      const same = (other: CheckReportFile): boolean =>
        (other.allocations[ip] ?? []).some(
          (a) =>
            !a.inUse &&
            !a.coolingDown &&
            a.handle === allocation.handle &&
            String(a.sequenceNumber) === String(allocation.sequenceNumber),
        );
      if (rest.every(same)) out.push(allocation);
    }
  }
  return out;
}

/** Endpoints stale in every report at the same revision, each once. */
export function staleEndpointsInAll(reports: readonly CheckReportFile[]): ReportStaleEndpoint[] {
  if (reports.length === 0) return [];
  const [first, ...rest] = reports;
  const seen = new Set<string>();
  return (first!.staleEndpoints ?? []).filter((e) => {
    const id = `${e.namespace}/${e.name}@${e.revision}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return rest.every((r) =>
      (r.staleEndpoints ?? []).some(
        (o) => o.namespace === e.namespace && o.name === e.name && o.revision === e.revision,
      ),
    );
  });
}

/** Handles leaked in every report with the same revision. */
export function leakedHandlesInAll(reports: readonly CheckReportFile[]): ReportLeakedHandle[] {
  if (reports.length === 0) return [];
  const [first, ...rest] = reports;
  return (first!.leakedHandles ?? []).filter((h) =>
    rest.every((r) =>
      (r.leakedHandles ?? []).some((o) => o.ID === h.ID && o.Revision === h.Revision),
    ),
  );
}

const BIG = '@@bigint:';

/**
 * The report as JSON (2-space indent). Sequence numbers are nanosecond-sized uint64s: they are
 * written as plain JSON numbers, digit for digit, as Go writes them.
 */
export function encodeReport(report: CheckReportFile): string {
  const text = JSON.stringify(
    report,
    (_key, value: unknown) => (typeof value === 'bigint' ? `${BIG}${value}` : value),
    2,
  );
  return text.replace(new RegExp(`"${BIG}(\\d+)"`, 'g'), '$1');
}

/** Parse a report, keeping sequence numbers exact (as decimal strings). */
export function decodeReport(text: string): CheckReportFile {
  return JSON.parse(text.replace(/("sequenceNumber"\s*:\s*)(\d+)/g, '$1"$2"')) as CheckReportFile;
}
