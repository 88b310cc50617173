// The process side of a CNI plugin call, shared by cidrpool-ipam and cidrpool-cni: stdin in,
// stdout out, and the package version for `-v` and the about text.
import { readFileSync, writeSync } from 'node:fs';

/** The network config text on stdin ('' for a non-blocking terminal without input). */
export function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    // EAGAIN: stdin is a non-blocking terminal; EOF-less input is not a network config anyway.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return '';
    throw err;
  }
}

/** This package's version from its package.json ('unknown' if unreadable). */
export function packageVersion(): string {
  let version = 'unknown';
  // The package root is two folders up from the bundle (dist/cni/plugin.js), three from tsc's
  // output (dist/src/cni/main.js).
  for (const up of ['../../', '../../../']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8'));
      if ((pkg as { name?: string }).name !== 'cidrpool') continue;
      version = (pkg as { version?: string }).version ?? version;
      break;
    } catch {
      // Not fatal: the version is only informative here.
    }
  }
  return version;
}

/**
 * Write `text` to stdout, then call `done`. Synchronous writes to fd 1 (a pipe or file from the
 * runtime): process.stdout would first build its stream (~1 ms of loading per call), and DEL,
 * CHECK, STATUS and GC print nothing. A non-blocking pipe that is full (EAGAIN) gets the rest
 * through process.stdout; a reader gone (EPIPE) leaves nothing more to tell.
 */
export function writeStdout(text: string, done: () => void): void {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
      process.stdout.write(rest, done);
      return;
    }
  }
  done();
}
