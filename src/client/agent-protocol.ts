// The node agent's IPAM socket: the messages the CNI plugin (src/cni) and the agent (src/node)
// exchange. CONTRACT shared by both sides; docs/node-agent.md "## IPAM socket and metrics".
//
// Framing: a unix stream socket carrying one JSON object per line (UTF-8, `\n`-terminated).
// The client opens a connection, sends `hello`, waits for its answer, then sends requests; the
// answers come back by `id`. The agent answers every request exactly once.
//
// Version 2: the plugin sends its whole CNI call (`cni.call`: its environment and the network
// config text) and gets back what it prints and its exit code; the agent runs the plugin's own
// ADD/DEL/CHECK code over its cache (src/cni/in-agent.ts). Version 1 (one request per store and
// engine call) is gone: each side refuses the other's hello, and the plugin then goes direct.
//
// This module imports nothing at run time: the plugin's thin entry (src/cni/thin-main.ts) is
// bundled with it and must stay small.
import type { DatastoreConfig } from '../datastore/config-types.js';
import type { ErrorCode } from '../errors/registry.js';

/** Bumped on any incompatible change; the agent refuses a hello with another version. */
export const AGENT_PROTOCOL_VERSION = 2;

/** Where the plugin looks for the agent when the network config has no `agent_socket`. */
export const DEFAULT_AGENT_SOCKET = '/var/run/cidrpool/ipam.sock';

/** The first request of a connection (`op: 'hello'`, `args: [AgentHello]`). */
export interface AgentHello {
  readonly protocol: number;
}

/** What the agent answers to hello. */
export interface AgentHelloAnswer {
  readonly protocol: number;
  readonly node: string;
}

/**
 * The one operation after hello: a whole CNI call (ADD, DEL or CHECK), `args: [CniCallRequest]`.
 * The agent answers a CniCallAnswer, or an error before it ran anything: AGENT_MISMATCH (the
 * call is for another node or datastore), AGENT_BAD_REQUEST. On such an error the plugin runs
 * the call itself.
 */
export const CNI_CALL = 'cni.call';

/** A plugin call as the plugin process received it. */
export interface CniCallRequest {
  /** The plugin's environment (CNI_*, CNI_ARGS, datastore and Kubernetes variables, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** The network config text the runtime wrote on the plugin's stdin. */
  readonly stdin: string;
}

/** What the plugin prints on stdout and exits with. */
export interface CniCallAnswer {
  readonly stdout: string;
  readonly exitCode: number;
}

/** A request: `op` is `hello` or CNI_CALL. */
export interface AgentRequest {
  readonly id: number;
  readonly op: string;
  readonly args: readonly unknown[];
  /**
   * Milliseconds the client waits for the answer. An ADD whose answer is ready only after that
   * (or after the client closed the connection) is undone by the agent, so a timed-out call and
   * its retry never leave two addresses under one handle.
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

/** One line of JSON. */
export function encodeMessage(message: AgentRequest | AgentResponse): string {
  return `${JSON.stringify(message)}\n`;
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

/**
 * A string naming a datastore, equal on both sides when they use the same one: the agent
 * refuses a call whose network config names another (AGENT_MISMATCH).
 */
export function datastoreIdentity(config: DatastoreConfig): string {
  if (config.type === 'embedded') return `embedded:${config.dataDir.replace(/\/+$/, '')}`;
  return `etcdv3:${[...config.endpoints]
    .map((e) => e.replace(/\/+$/, ''))
    .sort()
    .join(',')}`;
}
