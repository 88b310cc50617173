// Undoing an ADD whose answer never reached the runtime: the node agent's caller timed out or
// went away (the agent undoes it), or the agent died during the call (the plugin undoes it on
// the datastore). The runtime then retries the ADD or sends DEL, and finds nothing doubled.
import { deleteCallEndpoint } from './cmd-del.js';
import type { CallContext } from './context.js';
import { releaseIfPresent, type Session } from './session.js';

/**
 * Delete this container's endpoint (unless the pod plugin owns it) and release what its handle
 * holds; the endpoint first, as DEL does, so it never names free addresses. Unlike DEL the
 * pre-v3 handle is left alone: this ADD never wrote it. Throws DS_UNAVAILABLE and the engine's
 * errors.
 */
export async function undoAdd(ctx: CallContext, session: Session): Promise<void> {
  await deleteCallEndpoint(ctx, session);
  await releaseIfPresent(session, ctx.handleId);
}
