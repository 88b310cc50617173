// `npm run chaos [-- options]`: the chaos suite on both datastores (driver.ts), its figures
// printed, and with --report FILE written as Markdown tables. Exits 1 on any violation.
// Options: see OPTIONS below and docs/reliability.md. With --netns NAME the run re-executes
// itself inside a network namespace of that name, created for it and deleted after: needed for
// node agents (--agents), which program routes.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requestStop, runChaos, type ChaosOptions, type ChaosReport } from './driver.js';

const OPTIONS = {
  seed: { type: 'string' },
  'duration-s': { type: 'string', default: '120' },
  ops: { type: 'string', default: '1000000000' },
  allocations: { type: 'string', default: '1000000000' },
  workers: { type: 'string', default: '4' },
  'kill-rate': { type: 'string', default: '0.2' },
  'kill-window-ms': { type: 'string', default: '600' },
  'bulk-workers': { type: 'string', default: '0' },
  'bulk-size': { type: 'string', default: '64' },
  'engine-workers': { type: 'string', default: '0' },
  'engine-in-flight': { type: 'string', default: '8' },
  'engine-size': { type: 'string', default: '32' },
  'engine-kill-every-ms': { type: 'string', default: '3000' },
  agents: { type: 'string', default: '0' },
  'agent-in-flight': { type: 'string', default: '8' },
  'agent-kill-every-ms': { type: 'string', default: '5000' },
  nodes: { type: 'string', default: '3' },
  'node-cap': { type: 'string', default: '600' },
  'fault-every-ms': { type: 'string', default: '8000' },
  'fault-ms': { type: 'string', default: '1500' },
  'tmpfs-mib': { type: 'string', default: '64' },
  'progress-s': { type: 'string', default: '10' },
  datastore: { type: 'string', default: 'both' },
  netns: { type: 'string' },
  report: { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type NumberOption = Exclude<
  keyof typeof OPTIONS,
  'datastore' | 'netns' | 'report' | 'json' | 'help'
>;

/** `--help`: every option with its default; docs/reliability.md says what each one does. */
function usage(): string {
  const lines = Object.entries(OPTIONS).map(([name, o]) => {
    const value = o.type === 'string' ? ' VALUE' : '';
    const fallback = 'default' in o ? ` (default ${o.default})` : '';
    return `  --${name}${value}${fallback}`;
  });
  return [
    'usage: npm run chaos -- [options]   (docs/reliability.md describes each option)',
    ...lines,
  ].join('\n');
}

const sortedCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The Markdown tables of docs/reliability.md for one or more runs: figures, then operations. */
export function markdownTable(reports: readonly ChaosReport[]): string {
  const rows = reports.map((r) => {
    const ms = r.recoveries.map((x) => x.ms);
    const recovery = ms.length
      ? `median ${median(ms)} ms, max ${Math.max(...ms)} ms (${ms.length} faults)`
      : 'n/a';
    const kills = Object.values(r.kills).reduce((a, b) => a + b, 0);
    return `| ${r.datastore} | ${r.seed} | ${Math.round(r.elapsedMs / 1000)} s | ${r.operations} | ${r.allocations} | ${kills} (${sortedCounts(r.kills)}) | ${sortedCounts(r.faults)} | ${r.retriedDels} | ${r.violations.length} | ${recovery} | ${r.ipamCheck} | ${r.load.mean.toFixed(1)} / ${r.load.max.toFixed(1)} |`;
  });
  const kinds = reports.flatMap((r) =>
    Object.entries(r.byKind)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, c]) => `| ${r.datastore} | ${kind} | ${c.tried} | ${c.ok} |`),
  );
  return [
    '| datastore | seed | time | operations | addresses allocated | kill -9 | faults injected | DELs retried at the end | invariant violations | recovery after a fault | ipam check | load (mean / max) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| datastore | operation | tried | succeeded |',
    '|---|---|---|---|',
    ...kinds,
  ].join('\n');
}

/** Run this same command inside a fresh network namespace `name`; resolves to its exit code. */
async function inNetns(name: string): Promise<number> {
  execFileSync('ip', ['netns', 'add', name]);
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    const child = spawn(
      'ip',
      ['netns', 'exec', name, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, CHAOS_NETNS: name } },
    );
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, () => child.kill(signal));
    return await new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

async function main(): Promise<void> {
  // Parsed here, not on import: the tables above are imported by other scripts.
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}\n${usage()}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage());
    return;
  }
  const number = (name: NumberOption): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--${name} must be a number, not ${values[name]}`);
    return n;
  };
  if (values.netns && !process.env.CHAOS_NETNS) process.exit(await inNetns(values.netns));
  // Ctrl-C or SIGTERM: stop starting work, then heal, check and unmount as at the end.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, requestStop);
  const seed = values.seed !== undefined ? number('seed') : Math.floor(Math.random() * 2 ** 31);
  console.log(`chaos: seed ${seed} (rerun with --seed ${seed})`);
  const stores =
    values.datastore === 'both'
      ? (['embedded', 'etcd'] as const)
      : [values.datastore as 'embedded' | 'etcd'];
  const reports: ChaosReport[] = [];
  for (const datastore of stores) {
    const options: ChaosOptions = {
      datastore,
      seed,
      durationMs: number('duration-s') * 1000,
      maxOps: number('ops'),
      maxAllocations: number('allocations'),
      workers: number('workers'),
      killRate: number('kill-rate'),
      killWindowMs: number('kill-window-ms'),
      bulkWorkers: number('bulk-workers'),
      bulkSize: number('bulk-size'),
      engineWorkers: number('engine-workers'),
      engineInFlight: number('engine-in-flight'),
      engineSize: number('engine-size'),
      engineKillEveryMs: number('engine-kill-every-ms'),
      agents: number('agents'),
      agentInFlight: number('agent-in-flight'),
      agentKillEveryMs: number('agent-kill-every-ms'),
      nodes: number('nodes'),
      nodeCap: number('node-cap'),
      faultEveryMs: number('fault-every-ms'),
      faultMs: number('fault-ms'),
      tmpfsMiB: number('tmpfs-mib'),
      progressEverySec: number('progress-s'),
      log: (line) => console.log(line),
    };
    const report = await runChaos(options);
    reports.push(report);
    console.log(JSON.stringify({ ...report, recoveries: undefined }, null, 2));
    if (values.json) writeFileSync(values.json, JSON.stringify(reports, null, 2));
  }
  const table = markdownTable(reports);
  console.log(table);
  if (values.report) writeFileSync(values.report, `${table}\n`);
  const violations = reports.reduce((n, r) => n + r.violations.length, 0);
  if (violations > 0) {
    console.error(`chaos: ${violations} invariant violations (seed ${seed})`);
    process.exit(1);
  }
  // etcd clients may keep timers alive.
  process.exit(0);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
