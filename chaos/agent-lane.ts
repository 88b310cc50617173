// The agent lane: the real node agent (`cidrpool node run`) on some nodes, serving CNI-shaped
// requests (one IPv4 and one IPv6 address under `<network>.<id>`) on its IPAM socket, several in
// flight per agent, through the plugin's own client (src/cni/agent-client.ts). Each agent is
// killed -9 at random moments while requests are in flight (every killEveryMs on average) and
// started again. The agent programs routes, so this lane runs only inside a network namespace
// of the run's own (`npm run chaos -- --netns NAME`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datastoreIdentity } from '../src/client/agent-protocol.js';
import { openAgentSession } from '../src/cni/agent-client.js';
import type { Session } from '../src/cni/session.js';
import { isCidrpoolError } from '../src/errors/index.js';
import { startAgent, type RunningAgent } from '../test/node/ipam-agent-support.js';
import { sleep } from './backends.js';
import type { Lane, LaneOptions } from './lanes.js';

/** One agent per node of `nodes`. */
export interface AgentLaneOptions extends LaneOptions {
  /** Requests in flight per agent. */
  readonly inFlight: number;
  /** Mean time between kills of each agent (0: never killed). */
  readonly killEveryMs: number;
}

/** What the lane holds of one node's agent: the process and the driver's session with it. */
interface AgentSlot {
  readonly node: string;
  readonly socket: string;
  agent?: RunningAgent;
  session?: Session;
  inFlight: number;
}

const directRefused = () =>
  Promise.reject(new Error('the agent went away (the chaos driver never opens the datastore)'));

/** Start the agents (resolves when all listen) and return the lane. */
export async function agentLane(o: AgentLaneOptions): Promise<
  Lane & {
    socketOf(node: string): string | undefined;
    killLoops: Promise<void>;
  }
> {
  const dir = mkdtempSync(join(tmpdir(), 'cpch-agents-'));
  const slots = new Map<string, AgentSlot>(
    o.nodes.map((node) => [node, { node, socket: join(dir, `${node}.sock`), inFlight: 0 }]),
  );
  const identityOf = (node: string) => ({ node, datastore: datastoreIdentity(o.backend.config) });
  /** Start the agent of `s` and connect; a start that fails is tried again (bounded). */
  const start = async (s: AgentSlot) => {
    for (let attempt = 1; ; attempt++) {
      try {
        s.agent = await startAgent(o.backend.config, s.node, s.socket);
        // Under load (or while the datastore is down) the first hello may time out.
        for (let i = 0; i < 20 && !s.session; i++) {
          s.session = await openAgentSession(s.socket, identityOf(s.node), directRefused, {
            connectMs: 5000,
          });
          if (!s.session) await sleep(250);
        }
        if (s.session) return;
        throw new Error(`the agent of ${s.node} does not answer on ${s.socket}`);
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
      const session = s.session;
      s.session = undefined;
      await s.agent!.kill();
      await session?.close();
      await start(s);
    }
  };
  const killLoops = Promise.all([...slots.values()].map(killLoop)).then(() => undefined);

  /** Call the agent of `node` (waiting while it restarts); undefined when the call failed. */
  const call = async <T>(
    node: string,
    body: (s: Session) => Promise<T>,
  ): Promise<T | undefined> => {
    const s = slots.get(node)!;
    for (let waited = 0; !s.session && waited < 60_000; waited += 20) await sleep(20);
    const session = s.session;
    if (!session) return undefined;
    s.inFlight++;
    try {
      return await body(session);
    } catch (err) {
      o.ledger.failed('agent', isCidrpoolError(err) ? err.code : 'connection lost');
      if (!isCidrpoolError(err) && s.session === session) {
        // Not the agent's answer: the connection is gone while the agent lives; connect again.
        o.log(`agent ${node}: ${String(err)}; connecting again`);
        s.session = undefined;
        await session.close();
        s.session = await openAgentSession(s.socket, identityOf(node), directRefused);
      }
      return undefined;
    } finally {
      s.inFlight--;
    }
  };

  return {
    via: 'agent',
    slots: o.nodes.length * o.inFlight,
    next: (random) =>
      o.ledger.workload('agent', o.nodes[Math.floor(random() * o.nodes.length)]!, 1, false),
    async add(w) {
      const result = await call(w.node, (s) =>
        s.ipam.autoAssign({
          num4: 1,
          num6: 1,
          handleId: w.handle,
          hostname: w.node,
          intendedUse: 'Workload',
          attrs: { node: w.node, namespace: 'default', pod: `pod-${w.id}` },
        }),
      );
      return result ? [...result.ipv4.ips, ...result.ipv6.ips] : undefined;
    },
    async del(w) {
      const done = await call(w.node, (s) =>
        s.ipam.releaseByHandle(w.handle).then(
          () => true,
          (err: unknown) => {
            if (isCidrpoolError(err, 'IPAM_HANDLE_NOT_FOUND')) return true;
            throw err;
          },
        ),
      );
      return done === true;
    },
    socketOf: (node) => slots.get(node)?.socket,
    killLoops,
    async stop() {
      process.off('exit', killAll);
      for (const s of slots.values()) {
        await s.session?.close();
        await s.agent?.stop();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
