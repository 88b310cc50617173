// AssignIP: one given address (ipam-core.md §4.1).
import type { AffinityType } from '../datastore/keys.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { formatIp, networkOf, tryParseIp } from '../net/index.js';
import { assignOrdinal, garbageCollect, ipToOrdinal } from './block.js';
import { readBlock, readConfig, writeBlock } from './block-store.js';
import { claimCidr } from './claim.js';
import { contentionError, pause, readReservations, type IpamContext } from './context.js';
import { validateHandleId } from './handle-id.js';
import { findPoolOfIp, loadPools } from './pools.js';
import type { AssignIpRequest } from './types.js';

/**
 * Assign one address. The pool is the first enabled pool containing it; selectors,
 * assignmentMode and IPReservations are ignored (as Calico). A missing block is claimed for the
 * requesting host, even with strictAffinity off. The block and the handle change in one
 * transaction, so a retry never overcounts the handle (Calico's can).
 * Throws IPAM_INVALID_ARGUMENT, IPAM_INVALID_HANDLE, IPAM_NOT_IN_POOL, IPAM_USE_NOT_ALLOWED, IPAM_ALREADY_ASSIGNED
 * (also while cooling down), IPAM_AFFINITY_MISMATCH, IPAM_CONTENTION, DS_*.
 */
export async function assignIp(ctx: IpamContext, request: AssignIpRequest): Promise<void> {
  const ip = tryParseIp(request.ip);
  if (!ip)
    throw new CidrpoolError('IPAM_INVALID_ARGUMENT', `invalid IP address specified: ${request.ip}`);
  if (!request.hostname)
    throw new CidrpoolError('IPAM_INVALID_ARGUMENT', 'a host name is required');
  if (request.handleId !== undefined) validateHandleId(request.handleId);
  const type: AffinityType = request.intendedUse === 'LoadBalancer' ? 'virtual' : 'host';
  const affinity = `${type}:${request.hostname}`;
  const pools = (await loadPools(ctx.store)).filter((p) => p.enabled);
  const pool = findPoolOfIp(pools, ip);
  if (!pool)
    throw new CidrpoolError(
      'IPAM_NOT_IN_POOL',
      // Calico's text ends in "\n", which then ends the CNI error's msg and the CLI's line:
      // dropped (docs/design/differences.md).
      'The provided IP address is not in a configured pool',
      {
        details: { ip: formatIp(ip) },
      },
    );
  if (request.intendedUse && !pool.allowedUses.includes(request.intendedUse))
    throw new CidrpoolError(
      'IPAM_USE_NOT_ALLOWED',
      `IP address ${formatIp(ip)} is in IP pool "${pool.name}", which is not allowed for use "${request.intendedUse}" (allowedUses: [${pool.allowedUses.join(' ')}])`,
    );
  const config = await readConfig(ctx.store);
  const cidr = networkOf(ip, pool.blockSize);
  for (let i = 0; i < ctx.retries; i++) {
    try {
      let stored = await readBlock(ctx.store, cidr);
      if (!stored) {
        const claimed = await claimCidr(
          ctx,
          {
            family: ip.family,
            host: request.hostname,
            type,
            pools: [pool],
            reservations: await readReservations(ctx),
            cooldownSeconds: config.ipCooldownSeconds,
          },
          cidr,
        );
        // Another host created it first: go round and assign into it like any existing block.
        if (!claimed) continue;
        stored = claimed;
      }
      const block = garbageCollect(stored.value, config.ipCooldownSeconds, ctx.env.now());
      const next = assignOrdinal(block, ipToOrdinal(block, ip)!, {
        handleId: request.handleId,
        attrs: request.attrs,
        affinity,
        affinityCheck: config.strictAffinity,
      });
      await writeBlock(ctx.store, {
        family: ip.family,
        cidr: stored.value.cidr,
        change: { kind: 'update', block: next, revision: stored.revision, previous: stored.value },
        handles: request.handleId !== undefined ? [request.handleId] : [],
      });
      return;
    } catch (err) {
      if (!isCidrpoolError(err, 'DS_CONFLICT')) throw err;
      await pause(ctx, i);
    }
  }
  throw contentionError('assign IP');
}
