// The agent's IPAM socket (`node run --socket PATH`): the CNI plugin's fast path. The plugin
// sends its whole ADD/DEL/CHECK (src/client/agent-protocol.ts) and the agent runs the plugin's
// own command code (src/cni/in-agent.ts) with an engine over a watch-fed cache
// (cached-store.ts), so a pod start loads no datastore client and an allocation costs one
// conditional write. docs/node-agent.md "## IPAM socket and metrics".
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  AGENT_PROTOCOL_VERSION,
  type AgentHello,
  type AgentHelloAnswer,
  type AgentRequest,
  type AgentResponse,
  CNI_CALL,
  type CniCallRequest,
  DEFAULT_AGENT_SOCKET,
  encodeMessage,
  lineReader,
  type WireError,
} from '../client/agent-protocol.js';
import { runCallInAgent, type AgentHost } from '../cni/in-agent.js';
import { etcdClusterId } from '../datastore/etcd-gateway/index.js';
import {
  IPAM_CONFIG_KEY,
  blockKey,
  handleKey,
  parseAffinityKey,
  resourceKey,
  resourcePrefix,
  IPAM_PREFIX,
} from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { createKeyedQueue } from '../ipam/host-lock.js';
import { createIpam } from '../ipam/index.js';
import type { AutoAssignResult, Ipam } from '../ipam/types.js';
import { agentEnvironment } from './agent.js';
import { createAllocationBatcher } from './allocation-batcher.js';
import { CachedStore, type CacheScope } from './cached-store.js';
import { datastoreMatcher } from './datastore-match.js';
import { agentMetrics, type AgentMetrics } from './metrics.js';
import type { AgentContext, AgentService, RunningService } from './types.js';

/** The prefix of one node's host affinities (both families). */
const nodeAffinities = (node: string) => `${IPAM_PREFIX}host/${node}/`;

/**
 * What one node's allocations read: config, pools, reservations, its Node, its affinities, and
 * the blocks they name (each followed on its own: cached-store.ts).
 */
export function ipamCacheScope(node: string): CacheScope {
  return {
    prefixes: [resourcePrefix('IPPool'), resourcePrefix('IPReservation'), nodeAffinities(node)],
    keys: [IPAM_CONFIG_KEY, resourceKey('Node', node)],
    named: (key) => {
      const affinity = parseAffinityKey(key);
      return affinity?.host === node ? blockKey(affinity.family, affinity.cidr) : undefined;
    },
  };
}

/** An error for the wire; anything not a CidrpoolError becomes INTERNAL. */
function toWireError(err: unknown): WireError {
  if (err instanceof CidrpoolError) {
    return { code: err.code, message: err.message, details: err.details };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The CNI commands a plugin sends; anything else is counted as `other`. */
const COMMANDS = new Set(['ADD', 'DEL', 'CHECK']);

/**
 * The call of a `cni.call` request, or undefined when its arguments are not one. Only ADD, DEL
 * and CHECK: STATUS and GC would open the datastore of the config here, beside the cache.
 */
function callOf(request: AgentRequest): CniCallRequest | undefined {
  const call = request.args?.[0] as Partial<CniCallRequest> | undefined;
  if (typeof call?.stdin !== 'string' || typeof call.env !== 'object' || call.env === null) {
    return undefined;
  }
  if (!COMMANDS.has(String(call.env.CNI_COMMAND))) return undefined;
  return Object.values(call.env).every((v) => typeof v === 'string')
    ? (call as CniCallRequest)
    : undefined;
}

/**
 * The engine a call through the agent uses: the cache's engine, with AutoAssign and
 * ReleaseByHandle joining the batcher's block writes, and every allocation and release counted.
 */
function agentIpam(
  cache: CachedStore,
  ipam: Ipam,
  batcher: ReturnType<typeof createAllocationBatcher>,
  metrics: AgentMetrics,
): Ipam {
  async function count<T>(
    counter: 'allocations' | 'releases',
    operation: string,
    fn: () => Promise<T>,
    resultOf: (value: T) => string = () => 'ok',
  ): Promise<T> {
    try {
      const value = await fn();
      metrics[counter].inc({ operation, result: resultOf(value), code: '' });
      return value;
    } catch (err) {
      const code = isCidrpoolError(err) ? err.code : 'INTERNAL';
      // DEL releases the legacy handle too, which is nearly always absent: not an error.
      const notFound = isCidrpoolError(err) && err.spec.category === 'not-found';
      metrics[counter].inc({ operation, result: notFound ? 'not_found' : 'error', code });
      throw err;
    }
  }
  return {
    ...ipam,
    async autoAssign(request) {
      // A CNI handle is new (`<network>.<containerID>`): presume it absent and save its read. If
      // it exists after all, the write's condition on it fails and the engine reads it then.
      const key = request.handleId === undefined ? undefined : handleKey(request.handleId);
      if (key) cache.presumeAbsent(key);
      try {
        return await count(
          'allocations',
          'autoAssign',
          () => batcher.autoAssign(request),
          (res: AutoAssignResult) =>
            [res.ipv4, res.ipv6].some((a) => a.ips.length < a.numRequested) ? 'shortfall' : 'ok',
        );
      } finally {
        if (key) cache.forgetPresumption(key);
      }
    },
    assignIp: (request) => count('allocations', 'assignIp', () => ipam.assignIp(request)),
    releaseIps: (options) => count('releases', 'releaseIps', () => ipam.releaseIps(options)),
    releaseByHandle: (handleId) =>
      count('releases', 'releaseByHandle', () => batcher.releaseByHandle(handleId)),
  };
}

/** Serves the connections of one agent: hello, then whole CNI calls run over its cache. */
class IpamServer {
  private readonly handles = createKeyedQueue();

  constructor(
    private readonly node: string,
    private readonly otherDatastore: AgentHost['otherDatastore'],
    private readonly session: AgentHost['session'],
    private readonly metrics: AgentMetrics,
    private readonly log: AgentContext['log'],
  ) {}

  /** Attach to one connection: hello first, then requests answered as they complete. */
  serve(socket: Socket): void {
    let greeted = false;
    let open = true;
    const send = (response: AgentResponse) => {
      if (open) socket.write(encodeMessage(response));
    };
    socket.on('close', () => (open = false));
    socket.on('error', () => (open = false));
    socket.on(
      'data',
      lineReader(
        (message) => {
          const request = message as AgentRequest;
          if (!greeted) {
            greeted = this.greet(request, send);
            if (!greeted) socket.end();
            return;
          }
          void this.answer(request, () => open).then(send);
        },
        () => {
          send({ id: 0, error: toWireError(new CidrpoolError('AGENT_BAD_REQUEST', 'not JSON')) });
          socket.end();
        },
      ),
    );
  }

  private greet(request: AgentRequest, send: (r: AgentResponse) => void): boolean {
    const hello = request.args?.[0] as Partial<AgentHello> | undefined;
    let problem: string | undefined;
    if (request.op !== 'hello' || !hello) problem = 'the first message must be hello';
    else if (hello.protocol !== AGENT_PROTOCOL_VERSION)
      problem = `protocol ${String(hello.protocol)} is not ${AGENT_PROTOCOL_VERSION}`;
    if (problem) {
      send({
        id: request.id ?? 0,
        error: toWireError(new CidrpoolError('AGENT_MISMATCH', problem)),
      });
      return false;
    }
    const answer: AgentHelloAnswer = { node: this.node, protocol: AGENT_PROTOCOL_VERSION };
    send({ id: request.id, result: answer });
    return true;
  }

  /** The response to one request; never throws. */
  private async answer(request: AgentRequest, connected: () => boolean): Promise<AgentResponse> {
    const start = process.hrtime.bigint();
    const deadline = Date.now() + (request.timeoutMs ?? Infinity);
    const call = request.op === CNI_CALL ? callOf(request) : undefined;
    const command = call?.env.CNI_COMMAND ?? '';
    try {
      if (!call) {
        throw new CidrpoolError(
          'AGENT_BAD_REQUEST',
          `not a cni.call of ADD, DEL or CHECK: ${String(request.op)}`,
          { details: { op: request.op } },
        );
      }
      const outcome = await runCallInAgent(call, {
        node: this.node,
        otherDatastore: this.otherDatastore,
        session: this.session,
        late: () => !connected() || Date.now() > deadline,
        serialize: (key, fn) => (key === undefined ? fn() : this.handles.run(key, fn)),
        onUndo: (error) => {
          this.metrics.undone.inc();
          if (error) this.log('warning', 'undoing a late ADD failed', { error: String(error) });
        },
      });
      if ('refused' in outcome) throw new CidrpoolError('AGENT_MISMATCH', outcome.refused);
      return { id: request.id, result: outcome.answer };
    } catch (err) {
      return { id: request.id, error: toWireError(err) };
    } finally {
      this.metrics.socketLatency.observe(
        { operation: COMMANDS.has(command) ? command : 'other' },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    }
  }
}

/** Answers whether something listens on `path` (a live agent) within a short time. */
function answering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const done = (alive: boolean) => {
      s.destroy();
      resolve(alive);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 500).unref();
  });
}

/**
 * Listen on `path` with a root-only folder (created 0700) and socket (0600). A socket file
 * nobody answers on (left by a killed agent) is replaced. Throws AGENT_SOCKET_IN_USE when a live
 * agent answers there.
 */
async function listenOn(server: Server, path: string): Promise<void> {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    if (await answering(path)) {
      throw new CidrpoolError('AGENT_SOCKET_IN_USE', `another agent answers on ${path}`, {
        details: { hint: 'stop that agent, or give this one another --socket PATH' },
      });
    }
    unlinkSync(path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
}

/** `node run` flag `--socket PATH` (`none` turns the socket off). */
export const ipamSocketService: AgentService = {
  name: 'ipam-socket',
  async start(context: AgentContext): Promise<RunningService> {
    const { options, log } = context;
    const flag = options.flags.socket;
    const path = typeof flag === 'string' ? flag : DEFAULT_AGENT_SOCKET;
    if (path === 'none' || path === '') {
      log('info', 'IPAM socket off');
      return { stop: async () => undefined };
    }
    const metrics = agentMetrics();
    const cache = new CachedStore(context.store, ipamCacheScope(options.nodeName), {
      onResync: (reason) => {
        metrics.resyncs.inc();
        log('warning', 'IPAM cache resync', { reason });
      },
      onRoundTrip: (kind, seconds, ok) => {
        metrics.roundTrips.inc({ kind, result: ok ? 'ok' : 'error' });
        metrics.datastoreLatency.observe({ kind }, seconds);
      },
      onRead: (hit) => metrics.cacheHits.inc({ result: hit ? 'hit' : 'miss' }),
    });
    await cache.start();
    metrics.registerReadiness('ipam-cache', () => cache.ready);
    metrics.cacheReady.set(1);
    const ipam = createIpam(cache, agentEnvironment(log));
    metrics.setNodeBlocksSource(() => cache.held(nodeAffinities(options.nodeName)).length);
    metrics.setUsageSource(async () => {
      const [pools, borrowed] = await Promise.all([
        context.ipam.getUtilization(),
        context.ipam.listBorrowed(),
      ]);
      return {
        pools: pools
          .filter((p) => p.name !== undefined)
          .map((p) => ({
            pool: p.name!,
            cidr: p.cidr,
            inUse: Number(p.inUse),
            total: Number(p.capacity),
          })),
        borrowed: borrowed.borrowed.filter((b) => b.borrowingNode === options.nodeName).length,
      };
    });
    const batcher = createAllocationBatcher(cache, ipam, options.nodeName, Date.now, {
      onBatch: (size) => metrics.batchSize.observe(size),
      onReleaseBatch: (size) => metrics.releaseBatchSize.observe(size),
    });
    const server = new IpamServer(
      options.nodeName,
      datastoreMatcher(options.datastore, etcdClusterId),
      { store: cache, ipam: agentIpam(cache, ipam, batcher, metrics) },
      metrics,
      log,
    );
    const connections = new Set<Socket>();
    const listener = createServer((socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
      server.serve(socket);
    });
    const explicit = typeof flag === 'string';
    try {
      await listenOn(listener, path);
    } catch (err) {
      await cache.stop();
      // The default path is shared by every agent on the machine: without --socket, a second
      // agent (tests, a second node in namespaces) runs on without the fast path.
      if (explicit) throw err;
      log('warning', 'IPAM socket not started', { path, error: String(err) });
      return { stop: async () => undefined };
    }
    log('info', 'IPAM socket listening', { path });
    return {
      async stop() {
        metrics.cacheReady.set(0);
        const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
        for (const socket of connections) socket.destroy();
        await closed;
        if (existsSync(path)) unlinkSync(path);
        await cache.stop();
      },
    };
  },
};
