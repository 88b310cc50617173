// Output streams of the CLI. Commands write through these so that main() can flush both streams
// before exiting.

/** Write text to stdout as is. */
export const writeOut = (text: string): void => {
  if (text !== '') process.stdout.write(text);
};

/** Write text to stderr as is. */
export const writeErr = (text: string): void => {
  if (text !== '') process.stderr.write(text);
};

/** Write lines (each newline-terminated) to stdout. */
export const printLines = (lines: readonly string[]): void =>
  writeOut(lines.map((l) => `${l}\n`).join(''));

/** Write lines (each newline-terminated) to stderr. */
export const printErrLines = (lines: readonly string[]): void =>
  writeErr(lines.map((l) => `${l}\n`).join(''));

/** Wait until everything written so far has been handed to the OS. */
export function flushStreams(): Promise<void> {
  const drain = (stream: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (stream.writableLength === 0) resolve();
      else stream.write('', () => resolve());
    });
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => undefined);
}
