// ADD: assign addresses (automatically, or the ones asked for), record the endpoint, print the
// result. Anything done before a failure is undone (STYLE.md: CNI ADD rolls back).
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { FamilyAssignment } from '../ipam/types.js';
import { applyCallAnnotations, type AnnotationRequest } from './annotations.js';
import type { CallContext } from './context.js';
import { toDatastoreConfig } from './datastore-config.js';
import { buildWorkloadEndpoint, endpointNameOf, toHostNetwork } from './endpoint.js';
import { findEndpoint, writeEndpoint } from './endpoint-store.js';
import { formatIp, isIpv4Mapped, tryParseIp } from '../net/index.js';
import { buildAttributes } from './handle.js';
import { withNodeLock } from './lock.js';
import { readPodInfo } from './pod-info.js';
import { resolvePools } from './pools.js';
import { formatResult, type AssignedAddress } from './result.js';
import { epochNanos, openSession, releaseIfPresent, type Session } from './session.js';

const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

/**
 * AssignIP of one address under the handle. An address already in use fails with the message
 * calico-ipam passes on from libcalico-go (`resource already exists: <ip> with error: ...`).
 */
async function assignOne(
  session: Session,
  ctx: CallContext,
  ip: string,
  attrs: Record<string, string>,
): Promise<void> {
  try {
    await session.ipam.assignIp({ ip, handleId: ctx.handleId, attrs, hostname: ctx.node });
  } catch (err) {
    if (isCidrpoolError(err) && err.code === 'IPAM_ALREADY_ASSIGNED') {
      const shown = typeof err.details.ip === 'string' ? err.details.ip : ip;
      throw new CidrpoolError(
        'IPAM_ALREADY_ASSIGNED',
        `resource already exists: ${shown} with error: ${err.message}`,
        {
          cause: err,
          details: {
            ...err.details,
            hint: `${ip} is in use: \`cidrpool ipam show --ip ${ip}\` shows its owner; pick another address or release it`,
          },
        },
      );
    }
    throw err;
  }
}

/**
 * Before the ipAddrs annotation's addresses are assigned, Calico's main plugin releases the IPs
 * of the pod's existing endpoint (a new sandbox of the same pod), so that the same fixed address
 * can be assigned again. Throws with Calico's `failed to release ipAddrs: ...`.
 */
async function releaseOldEndpointIps(ctx: CallContext, session: Session): Promise<void> {
  const name = endpointNameOf(ctx.node, ctx.workload, ctx.env.ifName);
  const old = await findEndpoint(session.store, name, ctx.workload.namespace);
  for (const network of old?.spec.ipNetworks ?? []) {
    let failure: unknown;
    try {
      failure = (await session.ipam.releaseIps([{ address: network.split('/')[0]! }])).failures[0]
        ?.error;
    } catch (err) {
      failure = err;
    }
    if (failure === undefined) continue;
    if (!isCidrpoolError(failure)) throw failure;
    throw new CidrpoolError(failure.code, `failed to release ipAddrs: ${failure.message}`, {
      cause: failure,
      details: failure.details,
    });
  }
}

/**
 * Assign under the node lock: the given addresses (CNI_ARGS `IP=`, or the ipAddrs annotation)
 * with AssignIP, else one address per wanted family with AutoAssign. When one family is met and
 * the other is not, the met family is released and CNI_ASSIGN_FAILED raised (Calico's message).
 */
async function assign(
  ctx: CallContext,
  session: Session,
  request: AnnotationRequest,
  namespace: { name: string; labels: Readonly<Record<string, string>> } | undefined,
  ipArg: string | undefined,
): Promise<AssignedAddress[]> {
  const attrs = buildAttributes(ctx.workload, ctx.node, epochNanos());
  const fromArgs = ipArg !== undefined;
  const explicit = fromArgs ? [ipArg] : request.ipAddrs;
  if (explicit) {
    if (!fromArgs) await releaseOldEndpointIps(ctx, session);
    const done: AssignedAddress[] = [];
    try {
      for (const ip of explicit) {
        await assignOne(session, ctx, ip, attrs);
        done.push({ address: toHostNetwork(ip), family: familyOf(ip) });
      }
    } catch (err) {
      if (done.length > 0) await releaseIfPresent(session, ctx.handleId).catch(() => undefined);
      // Calico's main plugin calls IPAM with IP=<ip> for each ipAddrs entry and wraps failures.
      if (!fromArgs && isCidrpoolError(err)) {
        throw new CidrpoolError(err.code, `error getting IP from IPAM: ${err.message}`, {
          cause: err,
          details: err.details,
        });
      }
      throw err;
    }
    return done;
  }
  const { ipam } = request;
  // Names become CIDRs first, with calico-ipam's messages (before AutoAssign sees them).
  const [ipv4Pools, ipv6Pools] = await Promise.all([
    resolvePools(session.store, ipam.ipv4Pools, 4),
    resolvePools(session.store, ipam.ipv6Pools, 6),
  ]);
  let result;
  try {
    result = await session.ipam.autoAssign({
      num4: ipam.assignIpv4 ? 1 : 0,
      num6: ipam.assignIpv6 ? 1 : 0,
      handleId: ctx.handleId,
      attrs,
      hostname: ctx.node,
      ipv4Pools: ipv4Pools.length > 0 ? ipv4Pools : undefined,
      ipv6Pools: ipv6Pools.length > 0 ? ipv6Pools : undefined,
      intendedUse: 'Workload',
      namespace,
    });
  } catch (err) {
    // The engine may have assigned IPv4 before IPv6 failed: leave nothing behind.
    await releaseIfPresent(session, ctx.handleId).catch(() => undefined);
    throw err;
  }
  const short: FamilyAssignment | undefined = [result.ipv4, result.ipv6].find(
    (a) => a.ips.length < a.numRequested,
  );
  if (short) {
    await releaseIfPresent(session, ctx.handleId).catch(() => undefined);
    throw new CidrpoolError(
      'CNI_ASSIGN_FAILED',
      `failed to request IPv${short.family} addresses: ${session.describeShortfall(short)}`,
      {
        details: {
          hint: 'add or enlarge an IPPool that this node and namespace may use, or raise maxBlocksPerHost',
        },
      },
    );
  }
  return [...result.ipv4.ips, ...result.ipv6.ips].map((address) => ({
    address,
    family: familyOf(address),
  }));
}

/**
 * `IP=` in CNI_ARGS must be one address: calico-ipam reads it into a net.IP, and the CNI
 * library's LoadArgs reports a bad value with this message. Returns the canonical text.
 * Throws CNI_INVALID_ENV.
 */
function parseIpArg(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ip = tryParseIp(text);
  if (ip) {
    // As Go prints a net.IP: canonical text, and `::ffff:a.b.c.d` is the IPv4 address a.b.c.d.
    return formatIp(isIpv4Mapped(ip) ? { family: 4, value: ip.value & 0xffffffffn } : ip);
  }
  throw new CidrpoolError(
    'CNI_INVALID_ENV',
    `ARGS: error parsing value of pair "IP=${text}": invalid IP address: ${text}`,
    { details: { hint: 'CNI_ARGS IP= takes one IPv4 or IPv6 address, e.g. IP=10.65.0.7' } },
  );
}

/**
 * Run ADD and return the result text for the config's cniVersion. Errors are CidrpoolErrors:
 * CNI_INVALID_CONFIG / DS_CONFIG (fix the config), CNI_KUBE_*, CNI_BAD_ANNOTATION,
 * CNI_ASSIGN_FAILED, IPAM_* from the engine, DS_UNAVAILABLE (retry). On failure nothing stays
 * assigned under the handle and no endpoint is written.
 */
export async function runAdd(ctx: CallContext): Promise<string> {
  const ipArg = parseIpArg(ctx.env.args.ip);
  const dsConfig = toDatastoreConfig(ctx.conf, ctx.processEnv);
  // The Kubernetes reads and the datastore open do not depend on each other: overlap them.
  const sessionPromise = openSession(dsConfig);
  let session: Session | undefined;
  try {
    const [podInfo, opened] = await Promise.all([readPodInfo(ctx), sessionPromise]);
    session = opened;
    const request = applyCallAnnotations(ctx, podInfo);

    let addresses: AssignedAddress[];
    if (request.ipAddrsNoIpam) {
      // IPAM is bypassed entirely: nothing is recorded, the addresses are used as given.
      addresses = request.ipAddrsNoIpam.map((ip) => ({
        address: toHostNetwork(ip),
        family: familyOf(ip),
      }));
    } else {
      addresses = await withNodeLock(ctx, dsConfig, () =>
        assign(ctx, opened, request, podInfo.namespace, ipArg),
      );
    }

    try {
      const wep = buildWorkloadEndpoint({
        node: ctx.node,
        workload: ctx.workload,
        ifName: ctx.env.ifName,
        network: ctx.conf.name,
        addresses: addresses.map((a) => a.address),
        podLabels: podInfo.podLabels,
        floatingIps: request.floatingIps,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      });
      // Under cidrpool-cni the pod plugin writes the endpoint, with interface and MAC.
      if (!ctx.conf.endpointOwnedByPodPlugin) await writeEndpoint(session.store, wep);
    } catch (err) {
      if (!request.ipAddrsNoIpam)
        await releaseIfPresent(session, ctx.handleId).catch(() => undefined);
      throw err;
    }
    return formatResult(ctx.conf.cniVersion, addresses, request.ipam.resultRoutes !== 'none');
  } finally {
    // If the Kubernetes read failed first, the store may still be opening: close it too.
    const s = session ?? (await sessionPromise.catch(() => undefined));
    await s?.close().catch(() => undefined);
  }
}
