// DEL: release the handle (and the legacy handle) and remove the endpoint. Idempotent: a second
// DEL, or a DEL of a container never added, succeeds.
import type { CallContext } from './context.js';
import { toDatastoreConfig } from './datastore-config.js';
import { endpointNameOf } from './endpoint.js';
import { deleteEndpoint } from './endpoint-store.js';
import { legacyHandleIdOf } from './handle.js';
import { withNodeLock } from './lock.js';
import { openSession, releaseIfPresent } from './session.js';

/**
 * Run DEL: ReleaseByHandle(`<network>.<containerID>`), then the pre-v3 handle
 * (`<namespace>.<pod>` or the container ID), then delete the endpoint if it belongs to this
 * container. Throws DS_UNAVAILABLE (retryable) and configuration errors; never not-found.
 */
export async function runDel(ctx: CallContext): Promise<void> {
  const dsConfig = toDatastoreConfig(ctx.conf, ctx.processEnv);
  const session = await openSession(dsConfig);
  try {
    await withNodeLock(ctx, dsConfig, async () => {
      await releaseIfPresent(session, ctx.handleId);
      const legacy = legacyHandleIdOf(ctx.workload);
      if (legacy !== ctx.handleId) await releaseIfPresent(session, legacy);
    });
    // Under cidrpool-cni the endpoint is the pod plugin's to delete.
    if (ctx.conf.endpointOwnedByPodPlugin) return;
    await deleteEndpoint(
      session.store,
      endpointNameOf(ctx.node, ctx.workload, ctx.env.ifName),
      ctx.workload.namespace,
      ctx.workload.containerId,
    );
  } finally {
    await session.close().catch(() => undefined);
  }
}
