// CHECK: the addresses of the container are still held under its handle.
//
// calico-ipam registers no CHECK handler and succeeds without looking (surfaces.md §3.2). We
// look: CHECK exists to find lost state, and an address released behind the runtime's back is
// exactly that.
import { CidrpoolError } from '../errors/index.js';
import type { CallContext } from './context.js';
import { toDatastoreConfig } from './datastore-config.js';
import { heldAddresses, openCallSession } from './session.js';

/** `10.0.0.5/26` -> `10.0.0.5` */
const plain = (ip: string) => ip.split('/')[0]!;

/** The plain addresses of a prevResult (any result version), or undefined without one. */
function addressesOfPrevResult(prev: unknown): string[] | undefined {
  if (typeof prev !== 'object' || prev === null) return undefined;
  const p = prev as { ips?: { address?: string }[]; ip4?: { ip?: string }; ip6?: { ip?: string } };
  const raw = Array.isArray(p.ips) ? p.ips.map((ip) => ip.address) : [p.ip4?.ip, p.ip6?.ip];
  return raw.filter((a): a is string => typeof a === 'string').map(plain);
}

/**
 * Run CHECK (cniVersion >= 0.4.0, checked by the caller). Throws CNI_CHECK_FAILED when nothing
 * is held under the handle, or when prevResult lists an address the handle does not hold.
 */
export async function runCheck(ctx: CallContext): Promise<void> {
  const session = await openCallSession(ctx, toDatastoreConfig(ctx.conf, ctx.processEnv));
  try {
    const held = (await heldAddresses(session, ctx.handleId)).map(plain);
    const expected = addressesOfPrevResult(ctx.conf.prevResult);
    if (held.length === 0 && (expected === undefined || expected.length > 0)) {
      throw new CidrpoolError(
        'CNI_CHECK_FAILED',
        `no addresses are assigned to handle ${ctx.handleId}`,
        {
          details: {
            hint: 'the allocation was released or never made; DEL and ADD the container again',
          },
        },
      );
    }
    const missing = (expected ?? []).filter((ip) => !held.includes(ip));
    if (missing.length > 0) {
      throw new CidrpoolError(
        'CNI_CHECK_FAILED',
        `handle ${ctx.handleId} does not hold ${missing.join(', ')} (it holds ${held.join(', ') || 'nothing'})`,
        {
          details: {
            hint: 'the allocation changed behind the runtime; DEL and ADD the container again',
          },
        },
      );
    }
  } finally {
    await session.close().catch(() => undefined);
  }
}
