// ADD: addresses from the delegated IPAM plugin, the pod's veth, then the WorkloadEndpoint with
// interface and MAC. A failure after IPAM ADD undoes everything (veth removed, IPAM DEL).
import { openDatastore } from '../../datastore/open.js';
import type { Datastore } from '../../datastore/api.js';
import { CidrpoolError } from '../../errors/index.js';
import type { CallContext } from '../context.js';
import { toDatastoreConfig } from '../datastore-config.js';
import { applyCallAnnotations } from '../annotations.js';
import {
  buildWorkloadEndpoint,
  endpointNameOf,
  findEndpoint,
  writeEndpoint,
} from '../../client/workload-endpoint.js';
import { readPodInfo } from '../pod-info.js';
import { podInterfaceSpec } from './interface-spec.js';
import { execIpam, parseIpamResult } from './ipam-delegate.js';
import { parsePodConf } from './pod-config.js';
import { formatPodResult } from './pod-result.js';
import { removeHostEnd, wirePod } from './veth.js';

/**
 * Run ADD with the network config text `stdin`; returns the result text. Throws
 * CNI_ALREADY_ADDED (before IPAM runs), CNI_INVALID_CONFIG, CNI_BAD_ANNOTATION, CNI_IPAM_PLUGIN_NOT_FOUND, CNI_IPAM_PLUGIN_FAILED (the IPAM plugin's own
 * code), CNI_IPAM_RESULT_INVALID, CNI_KUBE_*, KERNEL_* and DS_* errors; after any failure that
 * follows IPAM ADD, the veth is gone and the addresses are released (IPAM DEL).
 */
export async function runPodAdd(ctx: CallContext, stdin: string): Promise<string> {
  const podConf = parsePodConf(ctx.conf);
  const type = ctx.conf.ipam.type;
  const podInfo = await readPodInfo(ctx);
  // Only floatingIPs matter here: the IPAM plugin reads the address annotations itself.
  const { floatingIps } = applyCallAnnotations(ctx, podInfo);
  const store = await openDatastore(toDatastoreConfig(ctx.conf, ctx.processEnv));
  try {
    await refuseSecondAdd(ctx, store);
    const ipamOut = await execIpam('ADD', type, ctx.processEnv, stdin);
    try {
      const ipam = parseIpamResult(type, ipamOut);
      const spec = podInterfaceSpec(ctx, podConf, ipam.addresses);
      const wired = await wirePod(spec);
      try {
        const wep = buildWorkloadEndpoint({
          node: ctx.node,
          workload: ctx.workload,
          ifName: ctx.env.ifName,
          network: ctx.conf.name,
          addresses: spec.addresses,
          podLabels: podInfo.podLabels,
          floatingIps,
          interfaceName: wired.hostIfName,
          mac: wired.podMac,
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        });
        await writeEndpoint(store, wep);
      } catch (err) {
        await removeHostEnd(wired.hostIfName).catch(() => undefined);
        throw err;
      }
      return formatPodResult({
        cniVersion: ctx.conf.cniVersion,
        wired,
        ifName: ctx.env.ifName,
        netns: ctx.env.netns,
        addresses: spec.addresses,
        routes: spec.routes,
        dns: ipam.dns,
      });
    } catch (err) {
      await execIpam('DEL', type, ctx.processEnv, stdin).catch(() => undefined);
      throw err;
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}

/**
 * Throws CNI_ALREADY_ADDED when this container already has its endpoint: a second ADD without
 * DEL must not touch IPAM, as its undo (IPAM DEL) would release the running pod's addresses.
 */
async function refuseSecondAdd(ctx: CallContext, store: Datastore): Promise<void> {
  const name = endpointNameOf(ctx.node, ctx.workload, ctx.env.ifName);
  const existing = await findEndpoint(store, name, ctx.workload.namespace);
  if (existing?.spec.containerID !== ctx.workload.containerId) return;
  throw new CidrpoolError(
    'CNI_ALREADY_ADDED',
    `container ${ctx.workload.containerId} already has interface ${ctx.env.ifName} (endpoint ${ctx.workload.namespace}/${name})`,
    { details: { hint: 'DEL the container before adding it again' } },
  );
}
