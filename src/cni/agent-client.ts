// The plugin's side of the node agent's IPAM socket (src/client/agent-protocol.ts): a Session
// whose store and engine calls are answered by the agent, from its watch-fed cache, so a call
// loads neither a datastore client nor the engine. When nothing answers (no socket, refused,
// no hello within the connect timeout, another node or datastore) the caller uses the
// datastore directly; when the agent goes away during the call, the rest of the call does.
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  AGENT_PROTOCOL_VERSION,
  type AgentHello,
  type AgentOperation,
  type AgentRequest,
  type AgentResponse,
  encodeMessage,
  fromWireError,
  lineReader,
  READ_ONLY_OPERATIONS,
  type WireError,
} from '../client/agent-protocol.js';
import type { Datastore } from '../datastore/api.js';
import { CidrpoolError } from '../errors/index.js';
import type { Ipam, ReleaseResult } from '../ipam/types.js';
import type { Session } from './session.js';

/** How long the plugin waits for the agent to accept and answer `hello` before going direct. */
export const AGENT_CONNECT_TIMEOUT_MS = 1000;
/** How long one call through the agent may take (then DS_UNAVAILABLE, retryable). */
export const AGENT_CALL_TIMEOUT_MS = 30_000;

interface Pending {
  readonly op: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  readonly timer: NodeJS.Timeout;
}

/** One connection to the agent; `call` rejects with `AgentGone` when the connection is lost. */
class AgentConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  closed = false;

  constructor(private readonly socket: Socket) {
    socket.on(
      'data',
      lineReader(
        (message) => this.answer(message as AgentResponse),
        () => this.fail(),
      ),
    );
    socket.on('close', () => this.fail());
    socket.on('error', () => this.fail());
  }

  call(op: 'hello' | AgentOperation, args: readonly unknown[], timeoutMs: number) {
    if (this.closed) return Promise.reject(new AgentGone(op));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new CidrpoolError(
            'DS_UNAVAILABLE',
            `the node agent did not answer ${op} within ${timeoutMs} ms`,
            {
              details: {
                ambiguous: !READ_ONLY_OPERATIONS.has(op),
                hint: 'retry the call; the agent undoes an assignment whose answer came too late',
              },
            },
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { op, resolve, reject, timer });
      const request: AgentRequest = { id, op, args, timeoutMs };
      this.socket.write(encodeMessage(request));
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private answer(response: AgentResponse): void {
    const waiting = this.pending.get(response.id);
    if (!waiting) return;
    this.pending.delete(response.id);
    clearTimeout(waiting.timer);
    if ('error' in response) waiting.reject(fromWireError(response.error as WireError));
    else waiting.resolve(response.result);
  }

  private fail(): void {
    if (this.closed && this.pending.size === 0) return;
    this.closed = true;
    this.socket.destroy();
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      this.pending.delete(id);
      waiting.reject(new AgentGone(waiting.op));
    }
  }
}

/** The connection was lost before the answer came. */
class AgentGone extends Error {
  constructor(readonly op: string) {
    super(`the node agent closed the connection during ${op}`);
  }
}

/** Connect and say hello; undefined when nothing usable answers within the timeout. */
async function connect(
  socketPath: string,
  hello: AgentHello,
  timeoutMs: number,
): Promise<AgentConnection | undefined> {
  // A missing socket is the common case without an agent: a stat, without loading node:net.
  if (!existsSync(socketPath)) return undefined;
  const { createConnection } = await import('node:net');
  const socket = await new Promise<Socket | undefined>((resolve) => {
    const s = createConnection(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    // ENOENT, ECONNREFUSED (a socket file left by a dead agent), EACCES: go direct at once.
    s.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  if (!socket) return undefined;
  const connection = new AgentConnection(socket);
  try {
    await connection.call('hello', [hello], timeoutMs);
    return connection;
  } catch {
    // Another node, another datastore, another protocol version, or no answer: go direct.
    connection.close();
    return undefined;
  }
}

/** `ReleaseResult.failures[].error` crosses the socket as a WireError. */
function reviveReleaseResult(result: unknown): ReleaseResult {
  const r = result as Omit<ReleaseResult, 'failures'> & {
    failures: { blockCidr: string; error: WireError }[];
  };
  return {
    ...r,
    failures: r.failures.map((f) => ({ blockCidr: f.blockCidr, error: fromWireError(f.error) })),
  };
}

const notThroughAgent = (name: string) => () =>
  Promise.reject(
    new CidrpoolError('INTERNAL', `${name} is not available through the node agent socket`),
  );

/**
 * A Session answered by the agent at `socketPath`, or undefined when no agent for this node and
 * datastore answers (the caller then opens the datastore itself). `openDirect` opens the
 * datastore when the agent goes away during the call: read-only calls are then repeated there;
 * a write whose answer was lost fails with DS_UNAVAILABLE (details.ambiguous), and the calls
 * after it (the ADD's rollback) go to the datastore.
 */
export async function openAgentSession(
  socketPath: string,
  hello: Omit<AgentHello, 'protocol'>,
  openDirect: () => Promise<Session>,
  timeouts: { connectMs?: number; callMs?: number } = {},
): Promise<Session | undefined> {
  const connection = await connect(
    socketPath,
    { protocol: AGENT_PROTOCOL_VERSION, ...hello },
    timeouts.connectMs ?? AGENT_CONNECT_TIMEOUT_MS,
  );
  if (!connection) return undefined;
  const callMs = timeouts.callMs ?? AGENT_CALL_TIMEOUT_MS;
  let direct: Promise<Session> | undefined;
  const directSession = () => (direct ??= openDirect());

  async function call<T>(
    op: AgentOperation,
    args: readonly unknown[],
    viaDirect: (s: Session) => Promise<T>,
    revive: (result: unknown) => T = (r) => r as T,
  ): Promise<T> {
    if (connection!.closed) return viaDirect(await directSession());
    try {
      return revive(await connection!.call(op, args, callMs));
    } catch (err) {
      if (!(err instanceof AgentGone)) throw err;
      if (READ_ONLY_OPERATIONS.has(op)) return viaDirect(await directSession());
      throw new CidrpoolError('DS_UNAVAILABLE', `${err.message}; it may or may not have applied`, {
        details: { ambiguous: true, hint: 'retry the call; it will use the datastore directly' },
      });
    }
  }

  const store: Datastore = {
    type: 'embedded',
    get: (key) => call('store.get', [key], (s) => s.store.get(key)),
    list: (prefix, options) =>
      call('store.list', [prefix, options], (s) => s.store.list(prefix, options)),
    readMany: (requests) => call('store.readMany', [requests], (s) => s.store.readMany(requests)),
    create: (key, value) => call('store.create', [key, value], (s) => s.store.create(key, value)),
    update: (key, value, rev) =>
      call('store.update', [key, value, rev], (s) => s.store.update(key, value, rev)),
    put: (key, value) => call('store.put', [key, value], (s) => s.store.put(key, value)),
    delete: (key, rev) => call('store.delete', [key, rev], (s) => s.store.delete(key, rev)),
    txn: (conditions, operations) =>
      call('store.txn', [conditions, operations], (s) => s.store.txn(conditions, operations)),
    watch: () => {
      throw new CidrpoolError('INTERNAL', 'watch is not available through the node agent socket');
    },
    close: async () => undefined,
  };
  const ipam: Ipam = {
    autoAssign: (request) => call('ipam.autoAssign', [request], (s) => s.ipam.autoAssign(request)),
    assignIp: (request) => call('ipam.assignIp', [request], (s) => s.ipam.assignIp(request)),
    releaseIps: (options) =>
      call('ipam.releaseIps', [options], (s) => s.ipam.releaseIps(options), reviveReleaseResult),
    releaseByHandle: (handleId) =>
      call('ipam.releaseByHandle', [handleId], (s) => s.ipam.releaseByHandle(handleId)),
    ipsByHandle: (handleId) =>
      call('ipam.ipsByHandle', [handleId], (s) => s.ipam.ipsByHandle(handleId)),
    getAssignmentAttributes: notThroughAgent('getAssignmentAttributes'),
    releaseAffinity: notThroughAgent('releaseAffinity'),
    releaseHostAffinities: notThroughAgent('releaseHostAffinities'),
    releasePoolAffinities: notThroughAgent('releasePoolAffinities'),
    getUtilization: notThroughAgent('getUtilization'),
    listBorrowed: notThroughAgent('listBorrowed'),
    getConfig: notThroughAgent('getConfig'),
    setConfig: notThroughAgent('setConfig'),
    check: notThroughAgent('check'),
  };
  return {
    store,
    ipam,
    viaAgent: true,
    close: async () => {
      connection.close();
      if (direct) await (await direct).close();
    },
  };
}
