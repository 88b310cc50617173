// ADD: addresses from the delegated IPAM plugin, the pod's veth, then the WorkloadEndpoint with
// interface and MAC. A failure after IPAM ADD undoes everything (veth removed, IPAM DEL).
import { openDatastore } from '../../datastore/open.js';
import type { Datastore } from '../../datastore/api.js';
import type { CallContext } from '../context.js';
import { toDatastoreConfig } from '../datastore-config.js';
import { buildWorkloadEndpoint } from '../endpoint.js';
import { writeEndpoint } from '../endpoint-store.js';
import { readPodInfo } from '../pod-info.js';
import { podInterfaceSpec } from './interface-spec.js';
import { execIpam, parseIpamResult } from './ipam-delegate.js';
import { parsePodConf } from './pod-config.js';
import { formatPodResult } from './pod-result.js';
import { removeHostEnd, wirePod } from './veth.js';

/**
 * Run ADD with the network config text `stdin`; returns the result text. Throws
 * CNI_INVALID_CONFIG, CNI_IPAM_PLUGIN_NOT_FOUND, CNI_IPAM_PLUGIN_FAILED (the IPAM plugin's own
 * code), CNI_IPAM_RESULT_INVALID, CNI_KUBE_*, KERNEL_* and DS_* errors; after any failure that
 * follows IPAM ADD, the veth is gone and the addresses are released (IPAM DEL).
 */
export async function runPodAdd(ctx: CallContext, stdin: string): Promise<string> {
  const podConf = parsePodConf(ctx.conf);
  const type = ctx.conf.ipam.type;
  const podInfo = await readPodInfo(ctx);
  // The store opens (for etcd: loads its client) while the IPAM plugin runs.
  const storePromise = openDatastore(toDatastoreConfig(ctx.conf, ctx.processEnv));
  storePromise.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  let store: Datastore | undefined;
  try {
    const ipamOut = await execIpam('ADD', type, ctx.processEnv, stdin);
    try {
      const ipam = parseIpamResult(type, ipamOut);
      store = await storePromise;
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
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        });
        await writeEndpoint(store, {
          ...wep,
          spec: { ...wep.spec, interfaceName: wired.hostIfName, mac: wired.podMac },
        });
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
    const s = store ?? (await storePromise.catch(() => undefined));
    await s?.close().catch(() => undefined);
  }
}
