// One AutoAssign request over both families, all or nothing: a request that fails, or that
// gets fewer addresses than it asked for, releases what it took before it returns.
// Calico returns a partial result (and, with the block-limit error, the addresses it took) and
// leaves the release to each caller; a caller that forgets leaks them (issue 15).
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { formatCidr, parseCidrMasked } from '../net/index.js';
import type { HostReservedAttr } from './block.js';
import { autoAssignFamily } from './auto-assign.js';
import type { IpamContext } from './context.js';
import { validateHandleId } from './handle-id.js';
import { releaseIps } from './release.js';
import { shortfallMessage } from './shortfall.js';
import type { AutoAssignRequest, AutoAssignResult } from './types.js';

/**
 * AutoAssign IPv4, then IPv6 (an IPv4 error skips IPv6, as Calico). Returns both assignments,
 * complete; with `request.allowPartial` a shortfall is returned instead (Calico's contract).
 * Otherwise a shortfall releases every address the request took and throws IPAM_SHORTFALL
 * (Calico's "Assigned X out of N ..." text, `details.assignment` the short family); any other
 * error (IPAM_BLOCK_LIMIT, IPAM_CONTENTION, DS_*, ...) releases them too and is rethrown.
 * When that release fails in turn the error says which addresses stay under the handle
 * (`details.stillAssigned`); a retried request or `ipam release --handle` frees them.
 * A bad handle ID throws IPAM_INVALID_HANDLE before anything is read or written.
 */
export async function autoAssignRequest(
  ctx: IpamContext,
  request: AutoAssignRequest,
  reserved: { readonly ipv4?: HostReservedAttr; readonly ipv6?: HostReservedAttr },
): Promise<AutoAssignResult> {
  if (request.handleId !== undefined) validateHandleId(request.handleId);
  const taken4: string[] = [];
  const taken6: string[] = [];
  let result: AutoAssignResult;
  try {
    const ipv4 = await autoAssignFamily(ctx, request, 4, request.num4, reserved.ipv4, taken4);
    if ('held' in ipv4) return ipv4.held;
    const ipv6 = await autoAssignFamily(ctx, request, 6, request.num6, reserved.ipv6, taken6);
    if ('held' in ipv6) return ipv6.held;
    result = { ipv4, ipv6 };
  } catch (err) {
    throw await undo(ctx, request, [...taken4, ...taken6], err);
  }
  if (request.allowPartial) return result;
  const short = [result.ipv4, result.ipv6].find((a) => a.ips.length < a.numRequested);
  if (!short) return result;
  const shortfall = new CidrpoolError('IPAM_SHORTFALL', shortfallMessage(short)!, {
    details: { assignment: short },
  });
  throw await undo(ctx, request, [...result.ipv4.ips, ...result.ipv6.ips], shortfall);
}

/** Release `taken` (under the request's handle) and return the error to throw. */
async function undo(
  ctx: IpamContext,
  request: AutoAssignRequest,
  taken: readonly string[],
  err: unknown,
): Promise<unknown> {
  if (taken.length === 0) return err;
  let stillAssigned: string[];
  let why: string;
  try {
    const outcome = await releaseIps(
      ctx,
      taken.map((ip) => ({ address: ip.split('/')[0]!, handleId: request.handleId })),
    );
    const failed = new Set(outcome.failures.map((f) => f.blockCidr));
    stillAssigned = failed.size === 0 ? [] : taken.filter((ip) => failed.has(blockOfTaken(ip)));
    why = outcome.failures.map((f) => f.error.message).join('; ');
  } catch (releaseError) {
    stillAssigned = [...taken];
    why = releaseError instanceof Error ? releaseError.message : String(releaseError);
  }
  ctx.log('debug', 'auto-assign rolled back', { taken: taken.length, left: stillAssigned.length });
  if (stillAssigned.length === 0 || !isCidrpoolError(err)) return err;
  return new CidrpoolError(
    err.code,
    `${err.message}; releasing the ${stillAssigned.length} addresses it took failed (${why}): ` +
      `they stay under handle ${request.handleId ?? '<none>'} until it is released`,
    { cause: err, details: { ...err.details, stillAssigned } },
  );
}

/** The block CIDR of an address as AutoAssign returns it (`10.0.0.5/26` -> `10.0.0.0/26`). */
const blockOfTaken = (ipWithMask: string): string => formatCidr(parseCidrMasked(ipWithMask));
