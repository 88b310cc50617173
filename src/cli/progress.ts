// A progress bar on stderr for long work, only when stderr is a terminal (scripts and tests see
// nothing).
import cliProgress from 'cli-progress';

/** A running progress bar (or a no-op one). */
export interface Progress {
  advance(by?: number): void;
  stop(): void;
}

const NONE: Progress = { advance: () => undefined, stop: () => undefined };

/** Start a bar of `total` steps labelled `label`; a no-op when stderr is not a TTY. */
export function startProgress(label: string, total: number): Progress {
  if (!process.stderr.isTTY || total <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { advance: (by = 1) => bar.increment(by), stop: () => bar.stop() };
}
