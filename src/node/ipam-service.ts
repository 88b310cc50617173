// The agent's IPAM socket (`node run --socket PATH`): the CNI plugin's fast path. The agent
// answers the plugin's store and engine calls (src/client/agent-protocol.ts) with an engine over
// a watch-fed cache (cached-store.ts), so a pod start loads no datastore client and an
// allocation costs one conditional write. docs/node-agent.md "## IPAM socket and metrics".
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  AGENT_OPERATIONS,
  AGENT_PROTOCOL_VERSION,
  type AgentHello,
  type AgentRequest,
  type AgentResponse,
  DEFAULT_AGENT_SOCKET,
  datastoreIdentity,
  encodeMessage,
  lineReader,
  toWireError,
} from '../client/agent-protocol.js';
import type { Datastore } from '../datastore/api.js';
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
import type { AutoAssignResult, Ipam, ReleaseOptions, ReleaseResult } from '../ipam/types.js';
import { agentEnvironment } from './agent.js';
import { createAllocationBatcher } from './allocation-batcher.js';
import { CachedStore, type CacheScope } from './cached-store.js';
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

/** The handle a request is about (its calls are answered one after another). */
function handleIdOf(request: AgentRequest): string | undefined {
  const first = request.args[0] as { handleId?: unknown } | string | undefined;
  if (request.op === 'ipam.releaseByHandle' || request.op === 'ipam.ipsByHandle')
    return typeof first === 'string' ? first : undefined;
  if (request.op === 'ipam.autoAssign' || request.op === 'ipam.assignIp') {
    const id = (first as { handleId?: unknown } | undefined)?.handleId;
    return typeof id === 'string' ? id : undefined;
  }
  return undefined;
}

const plain = (ip: string) => ip.split('/')[0]!;

/** Serves requests of one agent: the cached store, the engine over it, metrics. */
class IpamServer {
  private readonly handles = createKeyedQueue();

  constructor(
    private readonly node: string,
    private readonly datastore: string,
    private readonly cache: CachedStore,
    private readonly ipam: Ipam,
    private readonly batcher: ReturnType<typeof createAllocationBatcher>,
    private readonly metrics: AgentMetrics,
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
    else if (hello.node !== this.node)
      problem = `this agent serves node ${this.node}, not ${String(hello.node)}`;
    else if (hello.datastore !== this.datastore)
      problem = `this agent serves datastore ${this.datastore}, not ${String(hello.datastore)}`;
    if (problem) {
      send({
        id: request.id ?? 0,
        error: toWireError(new CidrpoolError('AGENT_MISMATCH', problem)),
      });
      return false;
    }
    send({ id: request.id, result: { node: this.node, protocol: AGENT_PROTOCOL_VERSION } });
    return true;
  }

  /** The response to one request; never throws. */
  private async answer(request: AgentRequest, connected: () => boolean): Promise<AgentResponse> {
    const start = process.hrtime.bigint();
    const deadline = Date.now() + (request.timeoutMs ?? Infinity);
    const late = () => !connected() || Date.now() > deadline;
    try {
      if (!AGENT_OPERATIONS.has(request.op) || !Array.isArray(request.args)) {
        throw new CidrpoolError('AGENT_BAD_REQUEST', `unknown operation ${String(request.op)}`, {
          details: { op: request.op },
        });
      }
      const handle = handleIdOf(request);
      const run = () => this.dispatch(request, late);
      const result = handle === undefined ? await run() : await this.handles.run(handle, run);
      return { id: request.id, result };
    } catch (err) {
      return { id: request.id, error: toWireError(err) };
    } finally {
      this.metrics.socketLatency.observe(
        { operation: request.op },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    }
  }

  private async dispatch(request: AgentRequest, late: () => boolean): Promise<unknown> {
    const args = request.args as never[];
    const store: Datastore = this.cache;
    switch (request.op) {
      case 'store.get':
        return store.get(args[0]);
      case 'store.list':
        return store.list(args[0], args[1]);
      case 'store.readMany':
        return store.readMany(args[0]);
      case 'store.create':
        return store.create(args[0], args[1]);
      case 'store.update':
        return store.update(args[0], args[1], args[2]);
      case 'store.put':
        return store.put(args[0], args[1]);
      case 'store.delete':
        return store.delete(args[0], args[1]);
      case 'store.txn':
        return store.txn(args[0], args[1]);
      case 'ipam.autoAssign':
        return this.autoAssign(request, late);
      case 'ipam.assignIp':
        return this.count('allocations', 'assignIp', async () => {
          const r = request.args[0] as Parameters<Ipam['assignIp']>[0];
          await this.ipam.assignIp(r);
          if (late()) await this.undo([r.ip], r.handleId);
        });
      case 'ipam.releaseIps':
        return this.count('releases', 'releaseIps', async () => {
          const options = (request.args[0] as (ReleaseOptions & { sequenceNumber?: string })[]).map(
            (o) => ({
              ...o,
              sequenceNumber: o.sequenceNumber === undefined ? undefined : BigInt(o.sequenceNumber),
            }),
          );
          const result: ReleaseResult = await this.ipam.releaseIps(options);
          return {
            ...result,
            failures: result.failures.map((f) => ({ ...f, error: toWireError(f.error) })),
          };
        });
      case 'ipam.releaseByHandle':
        return this.count('releases', 'releaseByHandle', () =>
          this.batcher.releaseByHandle(args[0]),
        );
      case 'ipam.ipsByHandle':
        return this.ipam.ipsByHandle(args[0]);
      default:
        throw new CidrpoolError('AGENT_BAD_REQUEST', `unknown operation ${String(request.op)}`);
    }
  }

  private async autoAssign(request: AgentRequest, late: () => boolean): Promise<AutoAssignResult> {
    const r = request.args[0] as Parameters<Ipam['autoAssign']>[0];
    // A CNI handle is new (`<network>.<containerID>`): presume it absent and save its read. If
    // it exists after all, the write's condition on it fails and the engine reads it then.
    const key = r.handleId === undefined ? undefined : handleKey(r.handleId);
    if (key) this.cache.presumeAbsent(key);
    try {
      const result = await this.count(
        'allocations',
        'autoAssign',
        () => this.batcher.autoAssign(r),
        (res) =>
          [res.ipv4, res.ipv6].some((a) => a.ips.length < a.numRequested) ? 'shortfall' : 'ok',
      );
      if (late()) await this.undo([...result.ipv4.ips, ...result.ipv6.ips], r.handleId);
      return result;
    } finally {
      if (key) this.cache.forgetPresumption(key);
    }
  }

  /** Release what a call assigned whose caller is gone (so its retry cannot get a second one). */
  private async undo(ips: readonly string[], handleId: string | undefined): Promise<void> {
    if (ips.length === 0) return;
    this.metrics.undone.inc();
    await this.ipam.releaseIps(ips.map((ip) => ({ address: plain(ip), handleId })));
  }

  private async count<T>(
    counter: 'allocations' | 'releases',
    operation: string,
    fn: () => Promise<T>,
    resultOf: (value: T) => string = () => 'ok',
  ): Promise<T> {
    try {
      const value = await fn();
      this.metrics[counter].inc({ operation, result: resultOf(value), code: '' });
      return value;
    } catch (err) {
      const code = isCidrpoolError(err) ? err.code : 'INTERNAL';
      // DEL releases the legacy handle too, which is nearly always absent: not an error.
      const notFound = isCidrpoolError(err) && err.spec.category === 'not-found';
      this.metrics[counter].inc({ operation, result: notFound ? 'not_found' : 'error', code });
      throw err;
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
    const server = new IpamServer(
      options.nodeName,
      datastoreIdentity(options.datastore),
      cache,
      ipam,
      createAllocationBatcher(cache, ipam, options.nodeName, Date.now, {
        onBatch: (size) => metrics.batchSize.observe(size),
        onReleaseBatch: (size) => metrics.releaseBatchSize.observe(size),
      }),
      metrics,
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
