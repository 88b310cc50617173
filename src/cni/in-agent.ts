// The plugin's ADD/DEL/CHECK run inside the node agent (src/node/ipam-service.ts): the agent
// received the whole call on its socket (src/cni/thin-main.ts sent it) and runs this very code,
// with its watch-fed cache and batched engine as the call's session. The one module of src/cni
// that src/node imports (eslint.config.js).
import type { CniCallAnswer, CniCallRequest } from '../client/agent-protocol.js';
import type { DatastoreConfig } from '../datastore/config-types.js';
import { CidrpoolError } from '../errors/index.js';
import type { CallContext } from './context.js';
import { handleIdOf } from './handle.js';
import { runCall } from './main.js';
import type { Session } from './session.js';
import { undoAdd } from './undo-add.js';

/** What the agent lends a call. */
export interface AgentHost {
  /** The node the agent serves (calls for another node are refused). */
  readonly node: string;
  /**
   * Why the agent does not serve the datastore a call's config names (another data dir, another
   * etcd cluster), or undefined when it does.
   */
  otherDatastore(config: DatastoreConfig): Promise<string | undefined>;
  /** The agent's store and engine; never closed by a call. */
  readonly session: Omit<Session, 'close' | 'viaAgent'>;
  /** True once the caller is gone or its timeout has passed: a finished ADD is then undone. */
  late(): boolean;
  /** Runs `fn` after the earlier calls on the same key (a handle: a retry waits for its ADD). */
  serialize<T>(key: string | undefined, fn: () => Promise<T>): Promise<T>;
  /** Told of an ADD undone because its answer came too late, and whether the undo failed. */
  onUndo(error?: unknown): void;
}

/** The agent ran the call (`answer`), or refused it before anything ran (`refused`). */
export type InAgentOutcome = { readonly answer: CniCallAnswer } | { readonly refused: string };

/** The handle a call is about, from its raw input (undefined when the config is not JSON). */
function handleOfRequest(request: CniCallRequest): string | undefined {
  try {
    const name = (JSON.parse(request.stdin) as { name?: unknown }).name;
    const id = request.env.CNI_CONTAINERID;
    return typeof name === 'string' && id ? handleIdOf(name, id) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Run one plugin call for a plugin process: the same parsing, checks, commands and error output
 * as the plugin (src/cni/main.ts runCall) with `host`'s session. Refused (nothing done) when
 * the call's node or datastore is not the agent's; the plugin then runs it itself. Never throws.
 */
export async function runCallInAgent(
  request: CniCallRequest,
  host: AgentHost,
): Promise<InAgentOutcome> {
  let refused: string | undefined;
  let added: CallContext | undefined;
  const session: Session = {
    ...host.session,
    viaAgent: true,
    close: async () => undefined,
  };
  const sessionSource = async (ctx: CallContext, config: DatastoreConfig) => {
    refused =
      ctx.node !== host.node
        ? `this agent serves node ${host.node}, not ${ctx.node}`
        : await host.otherDatastore(config);
    if (refused !== undefined) throw new CidrpoolError('AGENT_MISMATCH', refused);
    if (ctx.env.command === 'ADD') added = ctx;
    return session;
  };
  return host.serialize(handleOfRequest(request), async () => {
    const answer = await runCall(request.env, () => request.stdin, sessionSource);
    if (refused !== undefined) return { refused };
    if (added && answer.exitCode === 0 && host.late()) {
      // Nobody will read this answer: a retry must not find the address taken twice.
      try {
        await undoAdd(added, session);
        host.onUndo();
      } catch (err) {
        host.onUndo(err);
      }
    }
    return { answer };
  });
}
