// The node agent's IPAM socket: the messages the CNI plugin (src/cni) and the agent (src/node)
// exchange. CONTRACT shared by both sides; docs/node-agent.md "## IPAM socket and metrics".
//
// Framing: a unix stream socket carrying one JSON object per line (UTF-8, `\n`-terminated).
// The client opens a connection, sends `hello`, then any number of requests; several may be in
// flight at once and the answers come back by `id`, in any order. The agent answers every
// request exactly once. BigInt values travel as decimal strings.
import type { DatastoreConfig } from '../datastore/config-types.js';
import { CidrpoolError, type ErrorCode } from '../errors/index.js';

/** Bumped on any incompatible change; the agent refuses a hello with another version. */
export const AGENT_PROTOCOL_VERSION = 1;

/** Where the plugin looks for the agent when the network config has no `agent_socket`. */
export const DEFAULT_AGENT_SOCKET = '/var/run/cidrpool/ipam.sock';

/** The first request of a connection: which node and datastore the caller works on. */
export interface AgentHello {
  readonly protocol: number;
  readonly node: string;
  /** `datastoreIdentity` of the caller's datastore config. */
  readonly datastore: string;
}

/**
 * The operations a client may call after `hello`: the Datastore methods the plugin uses (the
 * endpoint and pool reads go through the agent's cache), and the IPAM engine's CNI operations.
 */
export type AgentOperation =
  | 'store.get'
  | 'store.list'
  | 'store.readMany'
  | 'store.create'
  | 'store.update'
  | 'store.put'
  | 'store.delete'
  | 'store.txn'
  | 'ipam.autoAssign'
  | 'ipam.assignIp'
  | 'ipam.releaseIps'
  | 'ipam.releaseByHandle'
  | 'ipam.ipsByHandle';

export const AGENT_OPERATIONS: ReadonlySet<string> = new Set<AgentOperation>([
  'store.get',
  'store.list',
  'store.readMany',
  'store.create',
  'store.update',
  'store.put',
  'store.delete',
  'store.txn',
  'ipam.autoAssign',
  'ipam.assignIp',
  'ipam.releaseIps',
  'ipam.releaseByHandle',
  'ipam.ipsByHandle',
]);

/** Operations that read only: safe to repeat against the datastore when the agent went away. */
export const READ_ONLY_OPERATIONS: ReadonlySet<string> = new Set<AgentOperation>([
  'store.get',
  'store.list',
  'store.readMany',
  'ipam.ipsByHandle',
]);

/** A request: `op` is `hello` or an AgentOperation; `args` are the method's arguments. */
export interface AgentRequest {
  readonly id: number;
  readonly op: 'hello' | AgentOperation;
  readonly args: readonly unknown[];
  /**
   * Milliseconds the client waits for the answer. A mutating IPAM call whose answer is ready
   * only after that (or after the client closed the connection) is undone by the agent, so a
   * timed-out call and its retry never leave two addresses under one handle.
   */
  readonly timeoutMs?: number;
}

/** An error as it crosses the socket: a registered code, the message and its details. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type AgentResponse =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: WireError };

/** A string naming a datastore, equal on both sides when they use the same one. */
export function datastoreIdentity(config: DatastoreConfig): string {
  if (config.type === 'embedded') return `embedded:${config.dataDir.replace(/\/+$/, '')}`;
  return `etcdv3:${[...config.endpoints]
    .map((e) => e.replace(/\/+$/, ''))
    .sort()
    .join(',')}`;
}

/** One line of JSON (bigint as decimal text). */
export function encodeMessage(message: AgentRequest | AgentResponse): string {
  return `${JSON.stringify(message, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  )}\n`;
}

/** An error for the wire; anything not a CidrpoolError becomes INTERNAL. */
export function toWireError(err: unknown): WireError {
  if (err instanceof CidrpoolError) {
    return { code: err.code, message: err.message, details: err.details };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The CidrpoolError a WireError stands for (same code, message and details). */
export function fromWireError(wire: WireError): CidrpoolError {
  return new CidrpoolError(wire.code, wire.message, { details: wire.details ?? {} });
}

/**
 * Splits a byte stream into lines and hands each parsed message to `onMessage`. Returns the
 * function to feed chunks to. A line that is not JSON is passed to `onBadLine`.
 */
export function lineReader(
  onMessage: (message: unknown) => void,
  onBadLine: (line: string) => void,
): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          onBadLine(line);
          parsed = undefined;
        }
        if (parsed !== undefined) onMessage(parsed);
      }
      newline = pending.indexOf('\n');
    }
  };
}
