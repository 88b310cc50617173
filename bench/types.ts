// One benchmark scenario: measures a figure and its anchor in the same run, and reports the ratio.
// `npm run bench` (bench/run.ts) runs every scenario and writes docs/benchmarks.md.

export interface BenchFigure {
  /** What was measured, e.g. `ADD+DEL p50`. */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The anchor measured in the same run (a peer, or the raw datastore's limit). */
  readonly anchor: { readonly name: string; readonly value: number; readonly unit: string };
  /** value / anchor.value, or as explained in `ratioMeaning`. */
  readonly ratio: number;
  /** How to read the ratio, e.g. `cidrpool / host-local (lower is better)`. */
  readonly ratioMeaning: string;
  readonly notes?: string;
}

export interface BenchContext {
  /** A fresh scratch directory for this scenario. */
  readonly workDir: string;
  /** Scale factor: 1 for the full run, smaller for a quick smoke run. */
  readonly scale: number;
  log(message: string): void;
}

export interface BenchScenario {
  /** Title in the report, e.g. `1. CNI ADD+DEL latency`. */
  readonly title: string;
  run(context: BenchContext): Promise<BenchFigure[]>;
}
