// The interface a call builds or checks, from the call and the pod plugin's config.
import { hostInterfaceNameOf } from '../../resources/workload-interface.js';
import type { CallContext } from '../context.js';
import { toHostNetwork } from '../endpoint.js';
import type { PodConf } from './pod-config.js';
import type { PodInterfaceSpec } from './veth.js';

/** The spec for `addresses` (any mask: the pod gets them as /32 and /128). */
export function podInterfaceSpec(
  ctx: CallContext,
  pod: PodConf,
  addresses: readonly string[],
): PodInterfaceSpec {
  return {
    netns: ctx.env.netns,
    ifName: ctx.env.ifName,
    hostIfName: hostInterfaceNameOf(ctx.workload),
    mtu: pod.mtu,
    numQueues: pod.numQueues,
    addresses: addresses.map(toHostNetwork),
    routes: pod.routes,
    allowIpForwarding: pod.allowIpForwarding,
  };
}
