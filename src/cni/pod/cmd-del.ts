// DEL: the pod's interface, then the addresses (IPAM DEL), then the endpoint if it is this
// container's. Idempotent: a namespace, interface, allocation or endpoint already gone is fine.
import { openDatastore } from '../../datastore/open.js';
import type { CallContext } from '../context.js';
import { toDatastoreConfig } from '../datastore-config.js';
import { endpointNameOf } from '../endpoint.js';
import { deleteEndpoint } from '../endpoint-store.js';
import { execIpam } from './ipam-delegate.js';
import { unwirePod } from './veth.js';

/**
 * Run DEL with the network config text `stdin`. Throws KERNEL_* (other than not-found),
 * CNI_IPAM_PLUGIN_* and DS_* errors; the runtime retries DEL until it succeeds.
 */
export async function runPodDel(ctx: CallContext, stdin: string): Promise<void> {
  const storePromise = openDatastore(toDatastoreConfig(ctx.conf, ctx.processEnv));
  storePromise.catch(() => undefined);
  try {
    await unwirePod(ctx.env.netns, ctx.env.ifName);
    await execIpam('DEL', ctx.conf.ipam.type, ctx.processEnv, stdin);
    await deleteEndpoint(
      await storePromise,
      endpointNameOf(ctx.node, ctx.workload, ctx.env.ifName),
      ctx.workload.namespace,
      ctx.workload.containerId,
    );
  } finally {
    const store = await storePromise.catch(() => undefined);
    await store?.close().catch(() => undefined);
  }
}
