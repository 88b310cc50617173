// CHECK: the pod's interface, addresses and routes are as ADD left them (prevResult says which
// addresses), then the IPAM plugin's own CHECK.
import { CidrpoolError } from '../../errors/index.js';
import type { CallContext } from '../context.js';
import { podInterfaceSpec } from './interface-spec.js';
import { execIpam } from './ipam-delegate.js';
import { parsePodConf } from './pod-config.js';
import { addressesOfResult } from './pod-result.js';
import { checkPod } from './veth.js';

/**
 * Run CHECK (cniVersion >= 0.4.0, checked by the caller). Throws CNI_INVALID_CONFIG without a
 * prevResult, CNI_CHECK_FAILED naming the first difference, or the IPAM plugin's error.
 */
export async function runPodCheck(ctx: CallContext, stdin: string): Promise<void> {
  const addresses = addressesOfResult(ctx.conf.prevResult);
  if (!addresses) {
    throw new CidrpoolError('CNI_INVALID_CONFIG', 'Required prevResult missing', {
      details: { hint: 'CHECK needs the ADD result as prevResult in the network config' },
    });
  }
  await checkPod(podInterfaceSpec(ctx, parsePodConf(ctx.conf), addresses));
  await execIpam('CHECK', ctx.conf.ipam.type, ctx.processEnv, stdin);
}
