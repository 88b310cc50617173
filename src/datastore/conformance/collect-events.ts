// Part of the conformance suite: wait for a number of watch events, with a deadline.
import type { Datastore, WatchEvent } from '../api.js';

/** Upper bound for a watch to deliver what a test expects (not a sleep: the wait ends early). */
const WATCH_DEADLINE_MS = 10_000;

/**
 * Watch `prefix` from `afterRevision` until `count` events arrived. `done` resolves with them,
 * and rejects when the watch reports an error or the deadline passes first.
 */
export function collectEvents(
  store: Datastore,
  prefix: string,
  afterRevision: string,
  count: number,
): { done: Promise<WatchEvent[]>; events: WatchEvent[] } {
  const events: WatchEvent[] = [];
  const done = new Promise<WatchEvent[]>((resolve, reject) => {
    const deadline = setTimeout(() => {
      void watcher.close();
      reject(
        new Error(`watch of ${prefix}: ${events.length} of ${count} events after the deadline`),
      );
    }, WATCH_DEADLINE_MS);
    const finish = (error?: Error) => {
      clearTimeout(deadline);
      void watcher.close().then(() => (error ? reject(error) : resolve(events)));
    };
    const watcher = store.watch(
      prefix,
      afterRevision,
      (event) => {
        events.push(event);
        if (events.length === count) finish();
      },
      (error) => finish(error),
    );
  });
  return { done, events };
}
