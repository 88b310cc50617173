// The plugin's side of the node agent's IPAM socket (src/client/agent-protocol.ts, version 2):
// hello, then the whole CNI call in one request; the agent answers what to print and the exit
// code. Part of the thin entry (thin-main.ts): node:net and nothing of the plugin's own code.
import { createConnection } from 'node:net';
import {
  AGENT_PROTOCOL_VERSION,
  CNI_CALL,
  type AgentRequest,
  type AgentResponse,
  type CniCallAnswer,
  type CniCallRequest,
  encodeMessage,
  lineReader,
} from '../client/agent-protocol.js';

/** How long the plugin waits for the agent to accept and answer `hello` before going direct. */
export const AGENT_CONNECT_TIMEOUT_MS = 1000;
/** How long one call through the agent may take (then DS_UNAVAILABLE, retryable). */
export const AGENT_CALL_TIMEOUT_MS = 30_000;

/**
 * What became of a call sent to the agent:
 * - `answered`: the agent ran it; print its answer.
 * - `unavailable`: nothing ran there (no agent, refused, another node, datastore or protocol
 *   version, no hello answer in time): run the call here.
 * - `lost`: the connection closed after the call was sent: the agent may have done part of it.
 * - `timed-out`: no answer within the call timeout; the connection is closed, and the agent
 *   undoes an ADD it finishes after that.
 */
export type AgentCallResult =
  | { readonly kind: 'answered'; readonly answer: CniCallAnswer }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'lost' }
  | { readonly kind: 'timed-out'; readonly timeoutMs: number };

const HELLO_ID = 1;
const CALL_ID = 2;

/** Send `call` to the agent at `socketPath`; never rejects. */
export function callAgent(
  socketPath: string,
  call: CniCallRequest,
  timeouts: { connectMs?: number; callMs?: number } = {},
): Promise<AgentCallResult> {
  const connectMs = timeouts.connectMs ?? AGENT_CONNECT_TIMEOUT_MS;
  const callMs = timeouts.callMs ?? AGENT_CALL_TIMEOUT_MS;
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    let sent = false;
    let timer = setTimeout(
      () => finish({ kind: 'unavailable', reason: 'no hello answer' }),
      connectMs,
    );
    function finish(result: AgentCallResult) {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    // Before the call is sent nothing ran there; after it, the agent may have done part of it.
    const gone = (reason: string) =>
      finish(sent ? { kind: 'lost' } : { kind: 'unavailable', reason });
    const send = (request: AgentRequest) => socket.write(encodeMessage(request));
    socket.once('connect', () =>
      send({ id: HELLO_ID, op: 'hello', args: [{ protocol: AGENT_PROTOCOL_VERSION }] }),
    );
    // ENOENT, ECONNREFUSED (a socket file left by a dead agent), EACCES: go direct at once.
    socket.on('error', (err) => gone(err.message));
    socket.on('close', () => gone('connection closed'));
    socket.on(
      'data',
      lineReader(
        (message) => {
          const response = message as AgentResponse;
          if ('error' in response) {
            // An error answer means the agent ran nothing (a CNI error is an answered call).
            finish({
              kind: 'unavailable',
              reason: `${response.error.code}: ${response.error.message}`,
            });
          } else if (response.id === HELLO_ID && !sent) {
            sent = true;
            clearTimeout(timer);
            timer = setTimeout(() => finish({ kind: 'timed-out', timeoutMs: callMs }), callMs);
            send({ id: CALL_ID, op: CNI_CALL, args: [call], timeoutMs: callMs });
          } else if (response.id === CALL_ID && sent) {
            finish({ kind: 'answered', answer: response.result as CniCallAnswer });
          }
        },
        () => gone('not JSON'),
      ),
    );
  });
}
