// A lane is one way the chaos driver adds and deletes workloads (a real program or API path):
// plugin processes, CLI processes, bulk CLI assigns, engine worker processes, node agents.
// Every lane runs the same loop in each of its slots: delete an uncertain workload again
// (10 %), delete a live one (40 %, or whenever the node is full, then an uncertain one), else
// add one.
import { sleep, type Backend } from './backends.js';
import type { Ledger, Via, Workload } from './ledger.js';

/** What every lane is built with. */
export interface LaneOptions {
  readonly backend: Backend;
  readonly ledger: Ledger;
  /** The run's seeded randomness. */
  readonly random: () => number;
  /** The nodes the lane adds workloads on. */
  readonly nodes: readonly string[];
  readonly running: () => boolean;
  readonly log: (line: string) => void;
}

export interface Lane {
  readonly via: Via;
  /** Calls this lane keeps in flight at once. */
  readonly slots: number;
  /** A new workload for this lane (its node and size chosen with `random`). */
  next(random: () => number): Workload;
  /** Add `w`; the addresses it answered, or undefined when it failed or was killed. */
  add(w: Workload): Promise<readonly string[] | undefined>;
  /** Delete `w`; true when the DEL answered success. `mayKill` false: never killed. */
  del(w: Workload, mayKill: boolean): Promise<boolean>;
  /** Stop what the lane started (workers, agents, their kill loops). */
  stop(): Promise<void>;
}

export interface LaneRun {
  readonly ledger: Ledger;
  readonly random: () => number;
  readonly running: () => boolean;
  /** At most this many IPv4 addresses may be held per node (the block limit is 20 blocks). */
  readonly nodeCap: number;
}

/** Add `w` through `lane`, recording the outcome; true when it succeeded. */
export async function addVia(lane: Lane, ledger: Ledger, w: Workload): Promise<boolean> {
  const startedAt = ledger.addStarted(w);
  const ips = await lane.add(w);
  ledger.addDone(w, startedAt, ips);
  return ips !== undefined;
}

/** Delete `w` through `lane`, recording the outcome; true when it succeeded. */
export async function delVia(
  lane: Lane,
  ledger: Ledger,
  w: Workload,
  mayKill: boolean,
): Promise<boolean> {
  const startedAt = ledger.delStarted(w);
  const ok = await lane.del(w, mayKill);
  ledger.delDone(w, startedAt, ok);
  return ok;
}

async function slot(lane: Lane, run: LaneRun): Promise<void> {
  const { ledger, random } = run;
  while (run.running()) {
    const r = random();
    let ok: boolean;
    const w = lane.next(random);
    const full = ledger.committedOn(w.node) + w.want > run.nodeCap;
    let victim = r < 0.1 ? ledger.pick(lane.via, random, true) : undefined;
    if (!victim && full) victim = ledger.pick(lane.via, random, false, w.node);
    if (!victim && r < 0.5) victim = ledger.pick(lane.via, random);
    // Uncertain workloads count as full: deleting them again is how a full node frees room.
    if (!victim && full) victim = ledger.pick(lane.via, random, true, w.node);
    if (victim) ok = await delVia(lane, ledger, victim, true);
    else if (!full) ok = await addVia(lane, ledger, w);
    else ok = false; // nothing to delete yet: in-flight calls will free room
    // A failed call (a fault, a kill) is not retried at once: no busy loop while etcd is down.
    if (!ok) await sleep(20 + random() * 80);
  }
}

/** Run every slot of `lane` until run.running() turns false. */
export async function runLane(lane: Lane, run: LaneRun): Promise<void> {
  await Promise.all(Array.from({ length: lane.slots }, () => slot(lane, run)));
}

/** Fault-free DELs of `workloads`, `parallel` at a time; how many succeeded. */
export async function deleteAll(
  lanes: ReadonlyMap<Via, Lane>,
  ledger: Ledger,
  workloads: readonly Workload[],
  parallel: number,
): Promise<number> {
  const queue = [...workloads];
  let deleted = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let w = queue.pop(); w; w = queue.pop())
        if (await delVia(lanes.get(w.via)!, ledger, w, false)) deleted++;
    }),
  );
  return deleted;
}

/** A fault-free DEL of every uncertain workload, in rounds, until none is left (bounded). */
export async function retryUncertain(
  lanes: ReadonlyMap<Via, Lane>,
  ledger: Ledger,
  rounds: number,
  parallel: number,
): Promise<number> {
  let retried = 0;
  for (let round = 0; round < rounds && ledger.uncertain.size > 0; round++) {
    retried += ledger.uncertain.size;
    await deleteAll(lanes, ledger, [...ledger.uncertain.values()], parallel);
  }
  return retried;
}
