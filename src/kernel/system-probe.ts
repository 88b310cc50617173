// What this host offers the node agent, found without changing it: link kinds and nftables NAT
// are tried inside a fresh anonymous network namespace (`unshare --net`), which has no name,
// holds nothing of the host's and vanishes with the probe process; sysctls and /sys/module are
// only read. The one exception to "try it" is ipip: loading that module creates `tunl0` in every
// namespace, the host's included, so a not-yet-loaded ipip is looked up in modules.dep instead.
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { PROGRAMS, type Probe, type SystemFacts } from '../dataplane/system-requirements.js';
import { runTool } from './run-tool.js';

/** Run `argv`; the exit code (null when it could not run) and what it printed. */
async function run(
  argv: readonly string[],
  stdin = '',
): Promise<{ code: number | null; output: string }> {
  try {
    const result = await runTool(argv[0]!, argv.slice(1), stdin, { timeoutMs: 10_000 });
    return { code: result.code, output: `${result.stderr}${result.stdout}` };
  } catch (err) {
    return { code: null, output: (err as Error).message };
  }
}

/** The first line of a program's complaint, for the report. */
const firstLine = (text: string) => text.trim().split('\n')[0] || 'failed';

/** Run `argv` (with `stdin`) in a throwaway network namespace; ok when it exits 0. */
async function tryInFreshNetns(argv: readonly string[], stdin = ''): Promise<Probe> {
  const result = await run(['unshare', '--net', '--', ...argv], stdin);
  return result.code === 0
    ? { ok: true, detail: '' }
    : { ok: false, detail: firstLine(result.output) };
}

async function tryLink(kind: string, ...spec: string[]): Promise<Probe> {
  const tried = await tryInFreshNetns(['ip', 'link', 'add', 'probe0', 'type', kind, ...spec]);
  return tried.ok ? tried : { ok: false, detail: `cannot create ${kind} links (${tried.detail})` };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `name` is on PATH, or undefined. */
async function which(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A sysctl of this network namespace that must be 1 (`name` as `sysctl -w` spells it). */
async function sysctlIsOne(name: string): Promise<Probe> {
  const path = `/proc/sys/${name.replaceAll('.', '/')}`;
  try {
    const value = (await readFile(path, 'utf8')).trim();
    return value === '1'
      ? { ok: true, detail: '' }
      : { ok: false, detail: `is ${value}; set it with sysctl -w ${name}=1` };
  } catch {
    return { ok: false, detail: `${path} does not exist` };
  }
}

/**
 * ipip: loaded or built in (/sys/module), loadable (modules.dep), absent from an installed module
 * tree; only without any module tree (nothing could be loaded) is a link tried.
 */
async function probeIpip(kernel: string): Promise<Probe> {
  if (await exists('/sys/module/ipip')) return { ok: true, detail: 'loaded' };
  const moduleTree = `/lib/modules/${kernel}`;
  if (await exists(moduleTree)) {
    const deps = await readFile(join(moduleTree, 'modules.dep'), 'utf8').catch(() => '');
    if (/(^|\/)ipip\.ko/m.test(deps))
      return { ok: true, detail: 'loadable module, not loaded yet' };
    return { ok: false, detail: `no ipip module in ${moduleTree}` };
  }
  return tryLink('ipip', 'remote', '192.0.2.1');
}

// The same matches the NAT tables use: a nat postrouting hook, masquerade with a port range and
// fully-random, and fib address types (nat-script.ts).
const NAT_PROBE = `table ip probe {
	chain postrouting {
		type nat hook postrouting priority srcnat + 10; policy accept;
		fib saddr . oif type != local fib saddr type local meta l4proto udp masquerade to :4790-65535
		ip saddr 10.0.0.0/8 masquerade fully-random
	}
}
`;

/** Probe this host. Never throws: a failed probe is a finding. */
export async function probeSystem(): Promise<SystemFacts> {
  const kernelRelease = release();
  const programs = Object.fromEntries(
    await Promise.all(
      PROGRAMS.map(async (name): Promise<[string, Probe]> => {
        const path = await which(name);
        return [
          name,
          path ? { ok: true, detail: path } : { ok: false, detail: 'not found on PATH' },
        ];
      }),
    ),
  ) as unknown as SystemFacts['programs'];
  const haveUnshare = (await which('unshare')) !== undefined;
  const noProbe: Probe = { ok: false, detail: 'cannot probe: unshare (util-linux) is missing' };
  const probe = (fn: () => Promise<Probe>) => (haveUnshare ? fn() : Promise.resolve(noProbe));
  const [veth, vxlan, ipip, nftNat] = await Promise.all([
    probe(() => tryLink('veth', 'peer', 'name', 'probe1')),
    probe(() => tryLink('vxlan', 'id', '4096', 'dstport', '4789')),
    probe(() => probeIpip(kernelRelease)),
    probe(async () => {
      const tried = await tryInFreshNetns(['nft', '-f', '-'], NAT_PROBE);
      return tried.ok
        ? tried
        : { ok: false, detail: `nft cannot load a NAT table (${tried.detail})` };
    }),
  ]);
  const ipv6 = (await exists('/proc/sys/net/ipv6'))
    ? { ok: true, detail: '' }
    : { ok: false, detail: 'IPv6 is disabled (no /proc/sys/net/ipv6)' };
  return {
    kernelRelease,
    veth,
    vxlan,
    ipip,
    nftNat,
    ipv6,
    ipv4Forward: await sysctlIsOne('net.ipv4.ip_forward'),
    ipv6Forward: await sysctlIsOne('net.ipv6.conf.all.forwarding'),
    programs,
  };
}
