// `npm run bench`: runs every scenario side by side with its anchor, prints a table and writes
// docs/benchmarks.md. Usage: node dist/bench/run.js [--scale=0.1] [title-substring...]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { BenchFigure, BenchScenario } from './types.js';

/** Scenario modules in report order; each exports `scenario: BenchScenario`. */
const SCENARIO_MODULES = [
  './cni-latency.js',
  './cni-burst.js',
  './etcd-throughput.js',
  './claim-cost.js',
  './borrow-sparse.js',
  './whole-cluster.js',
  './embedded-vs-etcd.js',
  './podman-run.js',
  './dashboard.js',
  './node-agent.js',
  './pod-plugin-latency.js',
  './agent-ipam.js',
  './agent-scale.js',
  './bird-config.js',
];

interface ScenarioOutcome {
  readonly title: string;
  readonly figures: BenchFigure[];
  readonly seconds: number;
  readonly error?: string;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toPrecision(3);
}

function renderTable(outcomes: readonly ScenarioOutcome[]): string {
  const rows = [
    '| scenario | metric | cidrpool | anchor | ratio | how to read |',
    '|---|---|---|---|---|---|',
  ];
  for (const outcome of outcomes) {
    if (outcome.error) {
      rows.push(`| ${outcome.title} | FAILED: ${outcome.error.replace(/\|/g, '/')} | | | | |`);
      continue;
    }
    for (const f of outcome.figures) {
      rows.push(
        `| ${outcome.title} | ${f.metric} | ${formatNumber(f.value)} ${f.unit} | ` +
          `${f.anchor.name}: ${formatNumber(f.anchor.value)} ${f.anchor.unit} | ` +
          `${formatNumber(f.ratio)} | ${f.ratioMeaning}${f.notes ? `; ${f.notes}` : ''} |`,
      );
    }
  }
  return rows.join('\n');
}

function describeMachine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the report says so.
  }
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Commit: ${commit}`,
    `- Machine: ${os.cpus().length} cores (${cpu}), ${gib} GiB, ${os.type()} ${os.release()}`,
    `- Node.js ${process.version}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'SET (not a clean environment!)' : 'unset (clean environment)'}`,
  ].join('\n');
}

const REPORT = 'docs/benchmarks.md';
/** The line after which docs/benchmarks.md holds readings written by hand; a full run keeps them. */
const READINGS_MARK = '<!-- readings: written by hand, kept by npm run bench -->';

/** The hand-written part of the current report (from READINGS_MARK on), or nothing. */
function handWrittenReadings(): string {
  if (!existsSync(REPORT)) return '';
  const current = readFileSync(REPORT, 'utf8');
  const at = current.indexOf(READINGS_MARK);
  return at < 0 ? '' : `\n${current.slice(at)}`;
}

/** The scenario knobs set in the environment (CIDRPOOL_BENCH*), which change what a run measures. */
function knobs(): string[] {
  return Object.entries(process.env)
    .filter(([name]) => name.startsWith('CIDRPOOL_BENCH'))
    .map(([name, value]) => `- Knob: ${name}=${value}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const scaleArg = args.find((a) => a.startsWith('--scale='));
  const scale = scaleArg ? Number(scaleArg.slice('--scale='.length)) : 1;
  const filters = args.filter((a) => !a.startsWith('--'));
  const outcomes: ScenarioOutcome[] = [];
  for (const path of SCENARIO_MODULES) {
    const { scenario } = (await import(path)) as { scenario: BenchScenario };
    if (filters.length > 0 && !filters.some((f) => scenario.title.includes(f))) continue;
    const workDir = mkdtempSync(join(os.tmpdir(), 'cidrpool-bench-'));
    const started = performance.now();
    console.log(`\n== ${scenario.title}`);
    try {
      const figures = await scenario.run({
        workDir,
        scale,
        log: (message) => console.log(`   ${message}`),
      });
      outcomes.push({
        title: scenario.title,
        figures,
        seconds: (performance.now() - started) / 1000,
      });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      console.log(`   FAILED: ${error}`);
      outcomes.push({ title: scenario.title, figures: [], seconds: 0, error });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  const table = renderTable(outcomes);
  console.log(`\n${table}`);
  const report = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); every figure is measured beside its anchor in the same run.',
    '',
    describeMachine(),
    `- Scale: ${scale}`,
    ...knobs(),
    '',
    table,
    '',
    '## Time per scenario',
    '',
    ...outcomes.map((o) => `- ${o.title}: ${o.error ? 'failed' : `${o.seconds.toFixed(1)} s`}`),
    '',
  ].join('\n');
  if (filters.length === 0) writeFileSync(REPORT, report + handWrittenReadings());
  else console.log('\n(a filtered run does not rewrite docs/benchmarks.md)');
  if (outcomes.some((o) => o.error)) process.exitCode = 1;
}

await main();
