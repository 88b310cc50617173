// ADD: assign addresses (automatically, or the ones asked for), record the endpoint, print the
// result. Anything done before a failure is undone (STYLE.md: CNI ADD rolls back).
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { FamilyAssignment } from '../ipam/types.js';
import { applyCallAnnotations, type AnnotationRequest } from './annotations.js';
import type { CallContext } from './context.js';
import { toDatastoreConfig } from './datastore-config.js';
import {
  buildWorkloadEndpoint,
  deleteEndpoint,
  endpointNameOf,
  findEndpoint,
  toHostNetwork,
  writeEndpoint,
} from '../client/workload-endpoint.js';
import { loadPools, type PoolInfo } from '../ipam/pools.js';
import { listHostAffinities } from '../ipam/block-store.js';
import { formatIp, isIpv4Mapped, parseCidr, parseIp, tryParseIp } from '../net/index.js';
import { buildAttributes } from './handle.js';
import { readPodInfo } from './pod-info.js';
import { resolvePools } from './pools.js';
import {
  blockLimitOf,
  checkGatewayBlock,
  checkUsable,
  layoutOf,
  poolOf,
  poolsNamed,
  shapeResult,
  skippedAddresses,
  type Layout,
  type ShapedResult,
} from './layout.js';
import { formatResult, type AssignedAddress } from './result.js';
import {
  epochNanos,
  openCallSession,
  releaseIfPresent,
  withCallLock,
  type Session,
} from './session.js';

const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);
const ipOf = (address: string) => parseIp(address.split('/')[0]!);

/** What the delegating plugin needs: its layout and, unless it is Calico's, the pools. */
interface Placement {
  readonly layout: Layout;
  readonly pools: readonly PoolInfo[];
}

/**
 * bridge with isGateway keeps one IPv4 gateway, so a node's pods come from one block: AutoAssign
 * ran with a limit of one block. Say so, and what to configure, instead of Calico's block limit.
 */
function gatewayBlockFull(ctx: CallContext, layout: Layout, cause: unknown): CidrpoolError {
  return new CidrpoolError(
    'CNI_GATEWAY_BLOCK_FULL',
    `bridge "${layout.bridge}" has isGateway: it holds one IPv4 gateway, the second address of one block, so node ${ctx.node} serves its pods on this network from one block, and that block is full`,
    {
      cause,
      details: {
        hint: 'give the IPPool a blockSize that holds the pods of a node (e.g. blockSize 24 for up to 253), or use isGateway: false (pods then reach every block of the node)',
      },
    },
  );
}

/**
 * Addresses asked for (IP=, ipAddrs) that the delegating plugin cannot give a pod: the subnet's
 * network or broadcast address, the host side's gateway, or (bridge with isGateway) an address
 * outside the node's one block. Throws CNI_UNUSABLE_ADDRESS.
 */
async function checkAskedAddresses(
  ctx: CallContext,
  session: Session,
  { layout, pools }: Placement,
  asked: readonly string[],
): Promise<void> {
  for (const ip of asked.map(ipOf)) {
    checkUsable(layout, ip, poolOf(pools, ip));
    if (layout.kind !== 'bridge-gateway') continue;
    const affine = await listHostAffinities(session.store, ctx.node, ip.family, 'host');
    const nodeBlocks = affine.map((a) => parseCidr(a.cidr));
    checkGatewayBlock(layout, ip, poolOf(pools, ip), nodeBlocks, ctx.node);
  }
}

/**
 * The gateways the plugin puts on the host side must be nobody's address: pods of this layout
 * never get them, but a pod of another kind of network on the same pool may hold one.
 * Throws CNI_GATEWAY_IN_USE.
 */
async function checkGatewaysFree(session: Session, layout: Layout, shaped: ShapedResult) {
  for (const { gateway } of shaped.ips) {
    if (!gateway) continue;
    const holder = await session.ipam.getAssignmentAttributes(gateway);
    if (!holder) continue;
    const owner = holder.attrs.pod
      ? `pod ${holder.attrs.namespace ?? ''}/${holder.attrs.pod}`
      : `handle ${holder.handleId ?? '(none)'}`;
    throw new CidrpoolError(
      'CNI_GATEWAY_IN_USE',
      `${gateway}, the gateway ${layout.plugin} puts on the host side, is assigned to ${owner}`,
      {
        details: {
          ip: gateway,
          hint: `give each kind of network its own IPPool (ipv4_pools / ipv6_pools), or release ${gateway} (\`cidrpool ipam release --ip ${gateway}\`)`,
        },
      },
    );
  }
}

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
 * can be assigned again. The old endpoint is deleted first, so that it never names an address
 * that is free. Throws with Calico's `failed to release ipAddrs: ...`.
 */
async function releaseOldEndpointIps(ctx: CallContext, session: Session): Promise<void> {
  const name = endpointNameOf(ctx.node, ctx.workload, ctx.env.ifName);
  const old = await findEndpoint(session.store, name, ctx.workload.namespace);
  if (old && old.spec.containerID !== ctx.workload.containerId)
    await deleteEndpoint(session.store, name, ctx.workload.namespace, old.spec.containerID ?? '');
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
  placement: Placement,
): Promise<AssignedAddress[]> {
  const { layout } = placement;
  const attrs = buildAttributes(ctx.workload, ctx.node, epochNanos());
  const fromArgs = ipArg !== undefined;
  const explicit = fromArgs ? [ipArg] : request.ipAddrs;
  if (explicit) {
    // Before anything is assigned or released.
    await checkAskedAddresses(ctx, session, placement, explicit);
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
    // All or nothing: a failed or short request has released what it took (IPv4 too when
    // IPv6 fails) before it throws. A retried ADD whose handle already holds one address per
    // asked family gets them back (an earlier attempt wrote them and lost its answer).
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
      maxBlocksPerHost: blockLimitOf(layout),
      skipIPv4: skippedAddresses(layout, 4),
      skipIPv6: skippedAddresses(layout, 6),
      reuseHeld: true,
    });
  } catch (err) {
    if (layout.kind === 'bridge-gateway' && isCidrpoolError(err, 'IPAM_BLOCK_LIMIT'))
      throw gatewayBlockFull(ctx, layout, err);
    if (!isCidrpoolError(err, 'IPAM_SHORTFALL')) throw err;
    const short = err.details.assignment as FamilyAssignment;
    throw new CidrpoolError(
      'CNI_ASSIGN_FAILED',
      `failed to request IPv${short.family} addresses: ${err.message}`,
      {
        cause: err,
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
  const sessionPromise = openCallSession(ctx, dsConfig);
  let session: Session | undefined;
  try {
    const [podInfo, opened] = await Promise.all([readPodInfo(ctx), sessionPromise]);
    session = opened;
    const layout = layoutOf(ctx.conf.raw);
    // Calico's plugin takes calico-ipam's result as it is: no pools needed, no extra read.
    const pools = layout.kind === 'calico' ? [] : await loadPools(opened.store);
    const request = applyCallAnnotations(ctx, podInfo);

    let addresses: AssignedAddress[];
    if (request.ipAddrsNoIpam) {
      // IPAM is bypassed entirely: nothing is recorded, the addresses are used as given.
      addresses = request.ipAddrsNoIpam.map((ip) => ({
        address: toHostNetwork(ip),
        family: familyOf(ip),
      }));
    } else {
      addresses = await withCallLock(opened, ctx, dsConfig, () =>
        assign(ctx, opened, request, podInfo.namespace, ipArg, { layout, pools }),
      );
    }

    const placed = addresses.map((a) => {
      const ip = ipOf(a.address);
      return { address: a.address, ip, pool: poolOf(pools, ip) };
    });
    const routePools = (family: 4 | 6) =>
      poolsNamed(pools, family, family === 4 ? request.ipam.ipv4Pools : request.ipam.ipv6Pools);
    const shaped = shapeResult(layout, placed, routePools, request.ipam.resultRoutes !== 'none');

    try {
      await checkGatewaysFree(opened, layout, shaped);
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
      // Under cidrpool-cni the pod plugin writes the endpoint, with interface and MAC. Only
      // while the handle is unchanged since the assignment: a DEL that released it meanwhile
      // makes this ADD fail instead of leaving an endpoint on free addresses.
      if (!ctx.conf.endpointOwnedByPodPlugin) {
        await writeEndpoint(
          session.store,
          wep,
          request.ipAddrsNoIpam ? {} : { heldBy: ctx.handleId },
        );
      }
    } catch (err) {
      if (!request.ipAddrsNoIpam)
        await releaseIfPresent(session, ctx.handleId).catch(() => undefined);
      throw err;
    }
    return formatResult(ctx.conf.cniVersion, shaped);
  } finally {
    // If the Kubernetes read failed first, the store may still be opening: close it too.
    const s = session ?? (await sessionPromise.catch(() => undefined));
    await s?.close().catch(() => undefined);
  }
}
