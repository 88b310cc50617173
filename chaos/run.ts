// `npm run chaos [-- options]`: the chaos suite on both datastores (driver.ts), its figures
// printed, and with --report FILE written as a Markdown table. Exits 1 on any violation.
//   --seed N  --duration-s S  --ops N  --workers N  --kill-rate R  --kill-window-ms MS
//   --fault-every-ms MS  --fault-ms MS  --datastore embedded|etcd|both  --report FILE
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { requestStop, runChaos, type ChaosReport } from './driver.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    'duration-s': { type: 'string', default: '120' },
    ops: { type: 'string', default: '1000000' },
    workers: { type: 'string', default: '4' },
    'kill-rate': { type: 'string', default: '0.2' },
    'kill-window-ms': { type: 'string', default: '600' },
    'fault-every-ms': { type: 'string', default: '8000' },
    'fault-ms': { type: 'string', default: '1500' },
    datastore: { type: 'string', default: 'both' },
    report: { type: 'string' },
  },
});

const number = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a number, not ${values[name]}`);
  return n;
};

/** The Markdown table of docs/reliability.md for one or more runs. */
export function markdownTable(reports: readonly ChaosReport[]): string {
  const rows = reports.map((r) => {
    const faults = Object.entries(r.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const recovery = r.recoveryMs.length
      ? `max ${Math.max(...r.recoveryMs)} ms, median ${[...r.recoveryMs].sort((a, b) => a - b)[Math.floor(r.recoveryMs.length / 2)]} ms`
      : 'n/a';
    return `| ${r.datastore} | ${r.seed} | ${Math.round(r.elapsedMs / 1000)} s | ${r.operations} (${r.addsSucceeded}/${r.adds} ADD, ${r.delsSucceeded}/${r.dels} DEL ok) | ${r.kills} | ${faults || 'none'} | ${r.retriedDels} | ${r.violations.length} | ${recovery} | ${r.ipamCheck} |`;
  });
  return [
    '| datastore | seed | time | operations | kill -9 | faults injected | DELs retried at the end | invariant violations | recovery after a fault | ipam check |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
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
    const report = await runChaos({
      datastore,
      seed,
      durationMs: number('duration-s') * 1000,
      maxOps: number('ops'),
      workers: number('workers'),
      killRate: number('kill-rate'),
      killWindowMs: number('kill-window-ms'),
      faultEveryMs: number('fault-every-ms'),
      faultMs: number('fault-ms'),
      tmpfsMiB: 64,
      log: (line) => console.log(line),
    });
    reports.push(report);
    console.log(JSON.stringify(report, null, 2));
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
