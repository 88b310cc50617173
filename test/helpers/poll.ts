// One bounded poll for every test that waits on something outside it (a kernel table, a page, a
// daemon): no blind sleeps, and a failure says what was awaited and the last error seen.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Poll `probe` every `intervalMs` until it returns a value other than undefined, and return it.
 * A probe that throws counts as "not yet" (a navigation destroyed the page, a daemon is not
 * up). Throws after `timeoutMs`, naming `what` and the last error.
 */
export async function pollFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline)
      throw new Error(`waited ${timeoutMs} ms for ${what}${last ? ` (${String(last)})` : ''}`);
    await delay(intervalMs);
  }
}
