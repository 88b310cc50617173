// The agent lane: the real node agent (`cidrpool node run`) on some nodes, serving whole CNI
// calls (ADD/DEL: one IPv4 and one IPv6 address and an endpoint under `<network>.<id>`) on its
// IPAM socket, several in flight per agent, through the thin plugin's own client
// (src/cni/agent-call.ts). Each agent is killed -9 at random moments while calls are in flight
// (every killEveryMs on average) and started again. The agent programs routes, so this lane runs
// only inside a network namespace of the run's own (`npm run chaos -- --netns NAME`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callAgent, type AgentCallResult } from '../src/cni/agent-call.js';
import { startAgent, type RunningAgent } from '../test/node/ipam-agent-support.js';
import { sleep } from './backends.js';
import type { Lane, LaneOptions } from './lanes.js';
import type { Workload } from './ledger.js';
import { addressesOf, childEnv, cniCallEnv, cniNetworkConfig } from './process-lanes.js';

/** One agent per node of `nodes`. */
export interface AgentLaneOptions extends LaneOptions {
  /** The CNI network name (handles are `<network>.<container id>`). */
  readonly network: string;
  /** Requests in flight per agent. */
  readonly inFlight: number;
  /** Mean time between kills of each agent (0: never killed). */
  readonly killEveryMs: number;
}

/** What the lane holds of one node's agent: the process, and whether it takes calls. */
interface AgentSlot {
  readonly node: string;
  readonly socket: string;
  agent?: RunningAgent;
  ready: boolean;
  inFlight: number;
}

/** Start the agents (resolves when all listen) and return the lane. */
export async function agentLane(o: AgentLaneOptions): Promise<
  Lane & {
    socketOf(node: string): string | undefined;
    killLoops: Promise<void>;
  }
> {
  const dir = mkdtempSync(join(tmpdir(), 'cpch-agents-'));
  const slots = new Map<string, AgentSlot>(
    o.nodes.map((node) => [
      node,
      { node, socket: join(dir, `${node}.sock`), ready: false, inFlight: 0 },
    ]),
  );
  const baseEnv = childEnv(o.backend);
  /** Start the agent of `s`; a start that fails is tried again (bounded). */
  const start = async (s: AgentSlot) => {
    for (let attempt = 1; ; attempt++) {
      try {
        s.agent = await startAgent(o.backend.config, s.node, s.socket);
        s.ready = true;
        return;
      } catch (err) {
        // A datastore fault can make a start fail: try again, a bounded number of times.
        await s.agent?.kill();
        s.agent = undefined;
        if (attempt >= 20) throw err;
        o.log(`agent ${s.node} did not start (attempt ${attempt}): ${String(err).slice(-300)}`);
        await sleep(500);
      }
    }
  };
  // However the driver ends (an etcd run ends at once on Ctrl-C), no agent outlives it.
  const killAll = () => {
    for (const s of slots.values())
      try {
        if (s.agent) process.kill(s.agent.pid, 'SIGKILL');
      } catch {
        // already gone
      }
  };
  process.on('exit', killAll);
  await Promise.all([...slots.values()].map(start));

  const killLoop = async (s: AgentSlot) => {
    while (o.killEveryMs > 0 && o.running()) {
      await sleep(-Math.log(1 - o.random()) * o.killEveryMs);
      if (!o.running() || s.inFlight === 0) continue;
      o.ledger.killed('node agent');
      s.ready = false;
      await s.agent!.kill();
      await start(s);
    }
  };
  const killLoops = Promise.all([...slots.values()].map(killLoop)).then(() => undefined);

  /**
   * Send one CNI call of `w` to its node's agent. A call the agent did not take (it is
   * restarting: nothing ran there) is sent again, for up to a minute; any other outcome is
   * returned as it came.
   */
  const call = async (command: string, w: Workload): Promise<AgentCallResult> => {
    const s = slots.get(w.node)!;
    const request = {
      env: { ...baseEnv, ...cniCallEnv(command, w) },
      stdin: cniNetworkConfig(o.backend, o.network, w.node, s.socket),
    };
    let result: AgentCallResult = { kind: 'unavailable', reason: 'never sent' };
    for (let waited = 0; waited < 60_000; waited += 50) {
      if (!s.ready) {
        await sleep(50);
        continue;
      }
      s.inFlight++;
      try {
        result = await callAgent(s.socket, request, { connectMs: 5000 });
      } finally {
        s.inFlight--;
      }
      if (result.kind !== 'unavailable') return result;
      await sleep(50);
    }
    return result;
  };
  /** The outcome in the ledger's terms: ok, or failed with its reason. */
  const succeeded = (
    result: AgentCallResult,
  ): result is Extract<AgentCallResult, { kind: 'answered' }> => {
    if (result.kind === 'answered' && result.answer.exitCode === 0) return true;
    const reason =
      result.kind === 'answered'
        ? `exit: ${/"code":\s*(\d+)/.exec(result.answer.stdout)?.[1] ?? result.answer.exitCode}`
        : result.kind;
    o.ledger.failed('agent', reason);
    return false;
  };

  return {
    via: 'agent',
    slots: o.nodes.length * o.inFlight,
    next: (random) =>
      o.ledger.workload('agent', o.nodes[Math.floor(random() * o.nodes.length)]!, 1, true),
    async add(w) {
      const result = await call('ADD', w);
      return succeeded(result) ? addressesOf(result.answer.stdout) : undefined;
    },
    async del(w) {
      return succeeded(await call('DEL', w));
    },
    socketOf: (node) => slots.get(node)?.socket,
    killLoops,
    async stop() {
      process.off('exit', killAll);
      for (const s of slots.values()) await s.agent?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
