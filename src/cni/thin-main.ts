// The first step of `cidrpool-ipam` (bin/cidrpool-ipam, bundled alone to dist/cni/thin.js): when
// a node agent answers on the call's socket, hand it the whole ADD/DEL/CHECK and print its
// answer, having loaded nothing but node:net and this. Otherwise (no agent, another node or
// datastore, any other command or a flag) run the full plugin, dist/cni/plugin.js, as before.
// docs/cni.md "Through the node agent".
import { existsSync } from 'node:fs';
import { DEFAULT_AGENT_SOCKET } from '../client/agent-protocol.js';
import { callAgent } from './agent-call.js';
import { readStdin, writeStdout } from './process-io.js';

/** What the full plugin is given when this entry has read the call (src/cni/main.ts). */
export interface FullPluginInput {
  /** The network config text, already read from stdin. */
  readonly stdin: string;
  /** The agent took the call and then closed the connection, or did not answer in time. */
  readonly agent?: 'lost' | 'timed-out';
  /** The call timeout, with `agent: 'timed-out'`. */
  readonly timeoutMs?: number;
}

/** Runs the full plugin (bin/cidrpool-ipam passes it: the bundle is not ours to load). */
export type RunFullPlugin = (input?: FullPluginInput) => unknown;

/**
 * The agent socket the network config names (`agent_socket`, top level first, then `ipam`, as
 * config.ts reads it): the default when absent, undefined for `none` or "", and for a config
 * the full plugin must judge (not JSON, not a string): it then reports the error.
 */
function socketOf(stdin: string): string | undefined {
  let conf: { agent_socket?: unknown; ipam?: { agent_socket?: unknown } };
  try {
    conf = JSON.parse(stdin) as typeof conf;
  } catch {
    return undefined;
  }
  const value = conf?.agent_socket ?? conf?.ipam?.agent_socket;
  if (value === undefined) return DEFAULT_AGENT_SOCKET;
  return typeof value === 'string' && value !== '' && value !== 'none' ? value : undefined;
}

/** The process environment as the agent needs it: every variable, as the plugin sees them. */
function environment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}

/** The thin entry point: through the agent when one answers, else `runFull`. */
export async function main(runFull: RunFullPlugin): Promise<unknown> {
  const command = process.env.CNI_COMMAND;
  const viaAgent = command === 'ADD' || command === 'DEL' || command === 'CHECK';
  if (!viaAgent || process.argv.length > 2) return runFull();
  const stdin = readStdin();
  const socket = socketOf(stdin);
  // A missing socket is the common case without an agent: a stat, without connecting.
  if (socket === undefined || !existsSync(socket)) return runFull({ stdin });
  const result = await callAgent(socket, { env: environment(), stdin });
  switch (result.kind) {
    case 'answered':
      return writeStdout(result.answer.stdout, () => process.exit(result.answer.exitCode));
    case 'unavailable':
      return runFull({ stdin });
    case 'lost':
      return runFull({ stdin, agent: 'lost' });
    case 'timed-out':
      return runFull({ stdin, agent: 'timed-out', timeoutMs: result.timeoutMs });
  }
}
