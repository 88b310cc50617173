// DEL: remove the endpoint, then release the handle (and the legacy handle). Idempotent: a
// second DEL, or a DEL of a container never added, succeeds.
import { deleteEndpoint, endpointNameOf } from '../client/workload-endpoint.js';
import type { CallContext } from './context.js';
import { toDatastoreConfig } from './datastore-config.js';
import { legacyHandleIdOf } from './handle.js';
import { openCallSession, releaseIfPresent, withCallLock, type Session } from './session.js';

/**
 * Delete the call's WorkloadEndpoint if it belongs to this container. Under cidrpool-cni the
 * endpoint is the pod plugin's to delete (before it calls IPAM DEL): nothing is done here.
 */
export async function deleteCallEndpoint(ctx: CallContext, session: Session): Promise<void> {
  if (ctx.conf.endpointOwnedByPodPlugin) return;
  await deleteEndpoint(
    session.store,
    endpointNameOf(ctx.node, ctx.workload, ctx.env.ifName),
    ctx.workload.namespace,
    ctx.workload.containerId,
  );
}

/**
 * Run DEL: delete the endpoint if it belongs to this container, then ReleaseByHandle
 * (`<network>.<containerID>`) and the pre-v3 handle (`<namespace>.<pod>` or the container ID).
 * In this order a DEL killed half-way leaves at worst addresses without an endpoint (a retried
 * DEL frees them), never an endpoint on addresses another pod may get.
 * Throws DS_UNAVAILABLE (retryable) and configuration errors; never not-found.
 */
export async function runDel(ctx: CallContext): Promise<void> {
  const dsConfig = toDatastoreConfig(ctx.conf, ctx.processEnv);
  const session = await openCallSession(ctx, dsConfig);
  try {
    await deleteCallEndpoint(ctx, session);
    await withCallLock(session, ctx, dsConfig, async () => {
      await releaseIfPresent(session, ctx.handleId);
      const legacy = legacyHandleIdOf(ctx.workload);
      if (legacy !== ctx.handleId) await releaseIfPresent(session, legacy);
    });
  } finally {
    await session.close().catch(() => undefined);
  }
}
