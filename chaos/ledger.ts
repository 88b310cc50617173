// What the chaos driver knows for sure (issue 15): every workload whose ADD answered success
// (live, with the addresses it answered), every handle whose DEL answered success (released),
// and every workload whose ADD or DEL failed or was killed (uncertain: it may hold addresses).
// The invariants of invariants.ts are checked against this ledger at the end. It also counts
// operations by kind, addresses allocated, kills by target, and the recovery after each fault.

/** How a workload was added: which real program or API path served its ADD and DEL. */
export type Via = 'cni' | 'cli' | 'bulk' | 'engine' | 'agent';

/** A workload the driver added, under its own handle. */
export interface Workload {
  readonly id: string;
  readonly handle: string;
  readonly node: string;
  readonly via: Via;
  /** Its ADD writes a WorkloadEndpoint (the plugin, `ipam assign --pod`). */
  readonly endpoint: boolean;
  /** IPv4 addresses asked for (the most it can hold per family). */
  readonly want: number;
  /** IPv6 addresses asked for (lanes that vary it). */
  readonly want6?: number;
  /** Addresses (with masks) a successful ADD answered. */
  readonly ips?: readonly string[];
}

export interface OperationCount {
  tried: number;
  ok: number;
}

/** The time from a fault's end to the first operation that succeeded after it (started after it). */
export interface Recovery {
  readonly fault: string;
  readonly ms: number;
}

export class Ledger {
  readonly live = new Map<string, Workload>();
  readonly uncertain = new Map<string, Workload>();
  /** Handles whose release answered success. */
  readonly released = new Set<string>();
  /** "<via> ADD" / "<via> DEL" → tried and succeeded. */
  readonly operations: Record<string, OperationCount> = {};
  /** Addresses answered by successful ADDs. */
  allocations = 0;
  /** Real SIGKILLs of a process at work, by target. */
  readonly kills: Record<string, number> = {};
  readonly faults: Record<string, number> = {};
  /** Why calls failed: "<via>: <error code>" or "<via>: killed" → count. */
  readonly failures: Record<string, number> = {};
  readonly recoveries: Recovery[] = [];
  /** Addresses per node that live, uncertain and in-flight workloads may hold (IPv4). */
  private readonly committed = new Map<string, number>();
  private readonly busy = new Set<string>();
  private healed: { fault: string; at: number } | undefined;
  private nextId = 0;

  constructor(
    readonly runId: string,
    readonly network: string,
  ) {}

  /** A new workload (not yet counted anywhere). */
  workload(via: Via, node: string, want: number, endpoint: boolean, want6?: number): Workload {
    const id = `${via[0]}${this.runId}x${this.nextId++}`;
    return { id, handle: `${this.network}.${id}`, node, via, endpoint, want, want6 };
  }

  committedOn(node: string): number {
    return this.committed.get(node) ?? 0;
  }

  /** An ADD is starting: the workload may hold addresses from now until a DEL succeeds. */
  addStarted(w: Workload): number {
    this.count(`${w.via} ADD`).tried++;
    this.committed.set(w.node, this.committedOn(w.node) + w.want);
    this.busy.add(w.id);
    return Date.now();
  }

  addDone(w: Workload, startedAt: number, ips: readonly string[] | undefined): void {
    this.busy.delete(w.id);
    if (ips === undefined) {
      this.uncertain.set(w.id, w);
      return;
    }
    this.count(`${w.via} ADD`).ok++;
    this.allocations += ips.length;
    this.live.set(w.id, { ...w, ips });
    this.succeeded(startedAt);
  }

  /** A DEL is starting: the workload is no longer live whatever the outcome. */
  delStarted(w: Workload): number {
    this.count(`${w.via} DEL`).tried++;
    this.busy.add(w.id);
    this.live.delete(w.id);
    return Date.now();
  }

  delDone(w: Workload, startedAt: number, ok: boolean): void {
    this.busy.delete(w.id);
    if (!ok) {
      this.uncertain.set(w.id, w);
      return;
    }
    this.count(`${w.via} DEL`).ok++;
    this.uncertain.delete(w.id);
    this.released.add(w.handle);
    this.committed.set(w.node, this.committedOn(w.node) - w.want);
    this.succeeded(startedAt);
  }

  /**
   * A live (or, with `uncertain`, an uncertain) workload of `via` (and of `node` when given)
   * that no call works on.
   */
  pick(via: Via, random: () => number, uncertain = false, node?: string): Workload | undefined {
    const map = uncertain ? this.uncertain : this.live;
    const candidates: Workload[] = [];
    for (const w of map.values()) {
      if (w.via === via && !this.busy.has(w.id) && (node === undefined || w.node === node))
        candidates.push(w);
      if (candidates.length >= 64) break;
    }
    return candidates[Math.floor(random() * candidates.length)];
  }

  killed(target: string): void {
    this.kills[target] = (this.kills[target] ?? 0) + 1;
  }

  failed(via: Via, reason: string): void {
    const key = `${via}: ${reason}`;
    this.failures[key] = (this.failures[key] ?? 0) + 1;
  }

  faultInjected(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  faultHealed(fault: string): void {
    this.healed = { fault, at: Date.now() };
  }

  /** No operation succeeded since the last fault ended: the time until now is its recovery. */
  closeRecovery(): void {
    if (this.healed)
      this.recoveries.push({ fault: this.healed.fault, ms: Date.now() - this.healed.at });
    this.healed = undefined;
  }

  get operationCount(): number {
    return Object.values(this.operations).reduce((n, c) => n + c.tried, 0);
  }

  private succeeded(startedAt: number): void {
    if (this.healed && startedAt >= this.healed.at) {
      this.recoveries.push({ fault: this.healed.fault, ms: Date.now() - this.healed.at });
      this.healed = undefined;
    }
  }

  private count(kind: string): OperationCount {
    return (this.operations[kind] ??= { tried: 0, ok: 0 });
  }
}
