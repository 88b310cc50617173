// The lanes of one real process per call (issue 15's first chaos runs): the CNI plugin
// (`cidrpool-ipam` ADD/DEL, one IPv4 and one IPv6 address and an endpoint each), the CLI
// (`ipam assign --pod` / `ipam release --handle`), and bulk CLI assigns of many addresses under
// one handle (`ipam assign --ipv4 N --ipv6 M` without a pod). Each process is killed -9 at a
// random moment of its first killWindowMs at killRate.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from './backends.js';
import type { Lane, LaneOptions } from './lanes.js';
import type { Via, Workload } from './ledger.js';
import { runKillable, type RunOutcome } from './spawn.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PLUGIN = join(ROOT, 'bin', 'cidrpool-ipam');
export const CLI = join(ROOT, 'bin', 'cidrpool');

export interface ProcessLaneOptions extends LaneOptions {
  readonly network: string;
  readonly slots: number;
  readonly killRate: number;
  readonly killWindowMs: number;
  /** The IPAM socket of the node's agent, when it runs one (the plugin then calls it). */
  readonly agentSocket?: (node: string) => string | undefined;
}

/** The environment every child process gets: a clean one plus the datastore's. */
export function childEnv(backend: Backend): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    ...backend.env,
  };
}

/** What the CLI's release says of a handle that does not exist: it holds nothing, so done. */
const NO_HANDLE = /resource does not exist: IPAMHandle/;

/** The registered error code a failed process printed (CLI: "[CODE]"; plugin: its JSON). */
const errorCodeOf = (stderr: string) =>
  /\b([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)\b/.exec(stderr)?.[1] ?? 'other';

function processRunner(o: ProcessLaneOptions, via: Via, target: string) {
  const env = childEnv(o.backend);
  return async (
    program: string,
    args: string[],
    mayKill: boolean,
    call: { extraEnv?: Record<string, string>; stdin?: string } = {},
  ): Promise<RunOutcome> => {
    const kill = mayKill && o.random() < o.killRate;
    const out = await runKillable(program, args, {
      env: { ...env, ...call.extraEnv },
      stdin: call.stdin,
      killAfterMs: kill ? o.random() * o.killWindowMs : undefined,
      timeoutMs: 120_000,
    });
    if (out.killed) o.ledger.killed(target);
    if (!out.ok) o.ledger.failed(via, out.killed ? 'killed' : `exit: ${errorCodeOf(out.stderr)}`);
    return out;
  };
}

const pickNode = (o: ProcessLaneOptions, random: () => number) =>
  o.nodes[Math.floor(random() * o.nodes.length)]!;

/** The network config of a workload's CNI call (one IPv4 and one IPv6 address). */
export function cniNetworkConfig(
  backend: Backend,
  network: string,
  node: string,
  agentSocket: string | undefined,
): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: network,
    type: 'calico',
    nodename: node,
    ...backend.cniKeys,
    agent_socket: agentSocket ?? 'none',
    ipam: { type: 'cidrpool-ipam', assign_ipv6: 'true' },
  });
}

/** The CNI_* variables of a workload's call (its container id makes its handle). */
export function cniCallEnv(command: string, w: Workload): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: w.id,
    CNI_IFNAME: 'eth0',
    CNI_NETNS: '/var/run/netns/none',
    CNI_PATH: '/usr/lib/cni',
  };
}

/** The CNI plugin's lane. */
export function cniLane(o: ProcessLaneOptions): Lane {
  const run = processRunner(o, 'cni', 'cni plugin');
  const plugin = (command: string, w: Workload, mayKill: boolean) =>
    run(PLUGIN, [], mayKill, {
      extraEnv: cniCallEnv(command, w),
      stdin: cniNetworkConfig(o.backend, o.network, w.node, o.agentSocket?.(w.node)),
    });
  return {
    via: 'cni',
    slots: o.slots,
    next: (random) => o.ledger.workload('cni', pickNode(o, random), 1, true),
    async add(w) {
      const out = await plugin('ADD', w, true);
      return out.ok ? addressesOf(out.stdout) : undefined;
    },
    async del(w, mayKill) {
      return (await plugin('DEL', w, mayKill)).ok;
    },
    stop: async () => undefined,
  };
}

/** `ipam assign` / `ipam release --handle` of the CLI: with `--pod` (one address per family and
 * an endpoint), or in bulk (up to bulkSize IPv4 addresses and an eighth as many IPv6). */
export function cliLane(o: ProcessLaneOptions, bulkSize?: number): Lane {
  const via: Via = bulkSize ? 'bulk' : 'cli';
  const run = processRunner(o, via, bulkSize ? 'cli bulk' : 'cli');
  return {
    via,
    slots: o.slots,
    next: (random) =>
      o.ledger.workload(
        via,
        pickNode(o, random),
        bulkSize ? 1 + Math.floor(random() * bulkSize) : 1,
        !bulkSize,
      ),
    async add(w) {
      const num6 = bulkSize ? Math.ceil(w.want / 8) : 1;
      // prettier-ignore
      const args = ['ipam', 'assign', '--node', w.node, '--handle', w.handle, '--ipv4', String(w.want), '--ipv6', String(num6), '-o', 'json'];
      if (w.endpoint) args.push('--pod', `pod-${w.id}`);
      const out = await run(CLI, args, true);
      return out.ok ? addressesOf(out.stdout) : undefined;
    },
    async del(w, mayKill) {
      const out = await run(CLI, ['ipam', 'release', '--handle', w.handle], mayKill);
      return out.ok || (!out.killed && NO_HANDLE.test(out.stderr));
    },
    stop: async () => undefined,
  };
}

/** The addresses (with masks) of a CNI 1.0 result or of `ipam assign -o json`. */
export function addressesOf(stdout: string): string[] {
  const parsed = JSON.parse(stdout) as {
    ips?: { address: string }[];
    ipv4?: string[];
    ipv6?: string[];
  };
  if (parsed.ips) return parsed.ips.map((ip) => ip.address);
  return [...(parsed.ipv4 ?? []), ...(parsed.ipv6 ?? [])];
}
