// Reachability checks for end-to-end network tests: one shell per source (not one process per
// pair), so checking every pair of twenty pods costs twenty spawns.
import assert from 'node:assert/strict';
import { execIn, type ExecResult } from './netns.js';

/**
 * A `sh -c` script that pings each target once (2 s timeout; busybox and iputils `ping` take
 * the same flags) and prints `unreachable <address>` for each one that does not answer.
 */
export function pingScript(targets: readonly string[]): string {
  return `for a in ${targets.join(' ')}; do ping -c 1 -W 2 "$a" >/dev/null 2>&1 || echo "unreachable $a"; done`;
}

/** Fail with the unreachable addresses `from` reported (run by `pingScript`). */
export function assertReached(from: string, run: ExecResult): void {
  assert.equal(run.code, 0, `ping from ${from}: ${run.stderr}`);
  assert.equal(run.stdout.trim(), '', `from ${from}:\n${run.stdout}`);
}

/** Every network namespace pings the address of every other one (`addresses[i]` is in `namespaces[i]`). */
export async function pingAll(
  namespaces: readonly string[],
  addresses: readonly string[],
): Promise<void> {
  for (const [i, ns] of namespaces.entries()) {
    const others = addresses.filter((_, j) => j !== i);
    assertReached(ns, await execIn(ns, 'sh', ['-c', pingScript(others)]));
  }
}

/** One network namespace pings every address. */
export async function pingFrom(namespace: string, addresses: readonly string[]): Promise<void> {
  assertReached(namespace, await execIn(namespace, 'sh', ['-c', pingScript(addresses)]));
}
