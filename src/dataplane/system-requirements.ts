// `cidrpool node checksystem`, the pure half: from what the probes found on this host and the
// configured IP pools, which requirement holds, which is missing, and which pool needs it. The
// report's shape follows `calicoctl node checksystem` (sections of `name ... OK/WARNING/FAIL`
// lines, then one verdict line).
import { tryParseCidr } from '../net/index.js';
import { isEncapEnabled } from '../resources/index.js';
import type { IPPool } from '../resources/types.js';

/** One probe's answer: present or not; what was seen (a path), or what is wrong, as a phrase. */
export interface Probe {
  readonly ok: boolean;
  readonly detail: string;
}

/** What the kernel adapter found on this host (src/kernel/system-probe.ts). */
export interface SystemFacts {
  readonly kernelRelease: string;
  /** Link kinds, probed by creating one in a throwaway network namespace. */
  readonly veth: Probe;
  readonly vxlan: Probe;
  readonly ipip: Probe;
  /** nf_tables with a nat postrouting chain, masquerade and fib (what the NAT tables use). */
  readonly nftNat: Probe;
  /** IPv6 in this network namespace (/proc/sys/net/ipv6). */
  readonly ipv6: Probe;
  /** Sysctls of this network namespace: ok when 1. */
  readonly ipv4Forward: Probe;
  readonly ipv6Forward: Probe;
  /** Programs on PATH, by name (ip, nft, bridge, bird). */
  readonly programs: Readonly<Record<ProgramName, Probe>>;
}

export const PROGRAMS = ['ip', 'nft', 'bridge', 'bird'] as const;
export type ProgramName = (typeof PROGRAMS)[number];

export type CheckStatus = 'OK' | 'WARNING' | 'FAIL';

export interface CheckLine {
  readonly name: string;
  readonly status: CheckStatus;
  /** What was seen (OK), or what is missing and who needs it (WARNING, FAIL). */
  readonly detail?: string;
  /**
   * The sentences this line adds to the report's problems. A feature only pools need leaves
   * them to those pools' lines, so that a missing module is one problem per pool, named by pool.
   */
  readonly problems?: readonly string[];
}

export interface CheckSection {
  readonly title: string;
  readonly lines: readonly CheckLine[];
}

export interface CheckReport {
  readonly sections: readonly CheckSection[];
  /** Every FAIL line's text: the things that stop this node from doing its job. */
  readonly problems: readonly string[];
}

/** The names of the pools that need each optional feature. */
interface Needs {
  readonly vxlan: string[];
  readonly ipip: string[];
  readonly ipv6: string[];
}

function needsOf(pools: readonly IPPool[]): Needs {
  const needs: Needs = { vxlan: [], ipip: [], ipv6: [] };
  for (const pool of pools) {
    const name = pool.metadata.name;
    // Disabled pools still route and still count for the devices (dataplane.md §1.1).
    if (isEncapEnabled(pool.spec.vxlanMode)) needs.vxlan.push(name);
    if (isEncapEnabled(pool.spec.ipipMode)) needs.ipip.push(name);
    if (tryParseCidr(pool.spec.cidr)?.family === 6) needs.ipv6.push(name);
  }
  return needs;
}

/** A feature every node needs: OK, or FAIL naming who needs it. */
function requiredLine(name: string, probe: Probe, neededBy: string): CheckLine {
  if (probe.ok) return { name, status: 'OK', detail: probe.detail || undefined };
  const detail = `${probe.detail}; needed by ${neededBy}`;
  return { name, status: 'FAIL', detail, problems: [`${name}: ${detail}`] };
}

/** A feature only some pools need: OK; FAIL naming those pools; WARNING when none does. */
function poolFeatureLine(
  name: string,
  probe: Probe,
  pools: readonly string[],
  usedFor: string,
): CheckLine {
  if (probe.ok) return { name, status: 'OK', detail: probe.detail || undefined };
  if (pools.length === 0) {
    return { name, status: 'WARNING', detail: `${probe.detail}; ${usedFor}` };
  }
  return {
    name,
    status: 'FAIL',
    detail: `${probe.detail}; needed by pool ${pools.join(', pool ')}`,
  };
}

/** The per-pool lines: each pool, and the first missing feature it needs. */
function poolLines(pools: readonly IPPool[], facts: SystemFacts): CheckLine[] {
  return pools.map((pool) => {
    const name = `pool ${pool.metadata.name}`;
    const missing: string[] = [];
    const { vxlanMode, ipipMode, natOutgoing, cidr } = pool.spec;
    if (isEncapEnabled(vxlanMode) && !facts.vxlan.ok)
      missing.push(`has vxlanMode: ${vxlanMode} but this kernel has no vxlan module`);
    if (isEncapEnabled(vxlanMode) && !facts.programs.bridge.ok)
      missing.push(`has vxlanMode: ${vxlanMode} but the bridge program (iproute2) is missing`);
    if (isEncapEnabled(ipipMode) && !facts.ipip.ok)
      missing.push(`has ipipMode: ${ipipMode} but this kernel has no ipip module`);
    if (tryParseCidr(cidr)?.family === 6 && !facts.ipv6.ok)
      missing.push(`is IPv6 (${cidr}) but IPv6 is disabled on this node`);
    if (natOutgoing && !facts.nftNat.ok)
      missing.push('has natOutgoing: true but nftables NAT is not available');
    if (missing.length === 0) return { name, status: 'OK' };
    const problems = missing.map((what) => `${name} ${what}`);
    return { name, status: 'FAIL', detail: missing.join('; '), problems };
  });
}

/**
 * Evaluate the host against the pools. `pools` undefined means the datastore was not read
 * (`poolsNote` says why): then only what every node needs can fail.
 */
export function evaluateSystem(
  facts: SystemFacts,
  pools: readonly IPPool[] | undefined,
  poolsNote?: string,
): CheckReport {
  const needs = needsOf(pools ?? []);
  const sections: CheckSection[] = [
    { title: 'Checking kernel version...', lines: [{ name: facts.kernelRelease, status: 'OK' }] },
    {
      title: 'Checking kernel features...',
      lines: [
        requiredLine('veth', facts.veth, 'every pod (its interface)'),
        poolFeatureLine('vxlan', facts.vxlan, needs.vxlan, 'needed only by pools with vxlanMode'),
        poolFeatureLine('ipip', facts.ipip, needs.ipip, 'needed only by pools with ipipMode'),
        requiredLine(
          'nf_tables (nat, masquerade, fib)',
          facts.nftNat,
          'the node agent (natOutgoing and tunnel masquerade)',
        ),
        poolFeatureLine('ipv6', facts.ipv6, needs.ipv6, 'needed only by IPv6 pools'),
      ],
    },
    {
      title: 'Checking programs...',
      lines: [
        requiredLine('ip', facts.programs.ip, 'the node agent (routes, devices)'),
        requiredLine('nft', facts.programs.nft, 'the node agent (NAT tables)'),
        poolFeatureLine('bridge', facts.programs.bridge, needs.vxlan, 'needed only by VXLAN pools'),
        poolFeatureLine('bird', facts.programs.bird, [], 'needed only for BGP'),
      ],
    },
    {
      title: 'Checking sysctls...',
      lines: [
        requiredLine('net.ipv4.ip_forward', facts.ipv4Forward, 'pod traffic leaving the node'),
        poolFeatureLine(
          'net.ipv6.conf.all.forwarding',
          facts.ipv6Forward,
          needs.ipv6,
          'needed only by IPv6 pools',
        ),
      ],
    },
    {
      title: 'Checking IP pools against this node...',
      lines: pools
        ? poolLines(pools, facts)
        : [{ name: 'IP pools', status: 'WARNING', detail: poolsNote ?? 'not read' }],
    },
  ];
  const problems = sections.flatMap((section) =>
    section.lines.flatMap((line) => line.problems ?? []),
  );
  return { sections, problems };
}

/** The report as text: sections, aligned lines, and the verdict (calicoctl's shape). */
export function renderCheckReport(report: CheckReport): string {
  const out: string[] = [];
  const width = Math.max(
    ...report.sections.flatMap((section) => section.lines.map((line) => line.name.length)),
  );
  for (const section of report.sections) {
    out.push(section.title);
    for (const line of section.lines) {
      const detail =
        line.status === 'OK' ? (line.detail ? `  (${line.detail})` : '') : `: ${line.detail}`;
      out.push(`\t\t${line.name.padEnd(width)}  ${line.status}${detail}`);
    }
  }
  out.push(
    report.problems.length === 0
      ? 'System meets the requirements of cidrpool and of the configured IP pools.'
      : `System does not meet the requirements: ${report.problems.length} problem(s):`,
  );
  for (const problem of report.problems) out.push(`  - ${problem}`);
  return `${out.join('\n')}\n`;
}
