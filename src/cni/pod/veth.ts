// The pod's interface as Calico's CNI plugin wires it (cni-plugin/pkg/dataplane/linux,
// DoNetworking): a veth pair whose host end `cali…` has the MAC ee:ee:ee:ee:ee:ee, proxy ARP and
// a /32 (/128) route to the pod, and whose pod end carries the pod's addresses as /32 (/128) with
// the link-local gateway 169.254.1.1 (IPv6: the host end's link-local address) as next hop.
import { CidrpoolError, isCidrpoolError } from '../../errors/index.js';
import {
  readSysctl,
  runIpBatch,
  runIpJson,
  writeSysctls,
  type Where,
} from '../../kernel/ip-command.js';

/** Calico's host-side MAC: the kernel need not generate (and persist) one per veth. */
export const HOST_SIDE_MAC = 'ee:ee:ee:ee:ee:ee';
/** The pod's IPv4 next hop: answered by proxy ARP on the host end, never assigned anywhere. */
export const IPV4_GATEWAY = '169.254.1.1';

/** What to build. */
export interface PodInterfaceSpec {
  /** CNI_NETNS: the pod's network namespace (a path). */
  readonly netns: string;
  /** CNI_IFNAME, e.g. eth0. */
  readonly ifName: string;
  /** `cali…`, in the namespace this process runs in (the node's). */
  readonly hostIfName: string;
  readonly mtu: number;
  readonly numQueues: number;
  /** The pod's addresses as /32 and /128. */
  readonly addresses: readonly string[];
  /** Destinations routed via the gateway inside the pod (per family, as applicable). */
  readonly routes: readonly string[];
  readonly allowIpForwarding: boolean;
}

/** What was built. */
export interface WiredInterface {
  readonly hostIfName: string;
  readonly hostMac: string;
  readonly podMac: string;
  /** The pod's next hop per family it has. */
  readonly gateways: { readonly v4?: string; readonly v6?: string };
}

interface IpLink {
  ifname: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
}

const isV6 = (cidr: string): boolean => cidr.includes(':');
const plain = (cidr: string): string => cidr.split('/')[0]!;
const HERE: Where = {};

/** Delete a link at `where`; a missing link or namespace is nothing to do. Returns whether one went. */
async function deleteLinkIfPresent(where: Where, name: string): Promise<boolean> {
  try {
    await runIpBatch(where, [`link del ${name}`]);
    return true;
  } catch (err) {
    if (isCidrpoolError(err, 'KERNEL_LINK_NOT_FOUND', 'KERNEL_NETNS_NOT_FOUND')) return false;
    throw err;
  }
}

/**
 * The host end's IPv6 link-local address. The kernel adds it once both ends are up (carrier);
 * with DAD off that is at once, so a few bounded reads suffice (Calico retries 10 times).
 */
async function hostLinkLocal(hostIfName: string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const links = await runIpJson<IpLink[]>(HERE, [
      '-6',
      'addr',
      'show',
      'dev',
      hostIfName,
      'scope',
      'link',
    ]);
    const local = links[0]?.addr_info?.find((a) => a.family === 'inet6')?.local;
    if (local) return local;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new CidrpoolError(
    'KERNEL_COMMAND_FAILED',
    `failed to get IPv6 addresses for host side of the veth pair ${hostIfName}`,
    {
      details: {
        hint: 'the node has IPv6 disabled (net.ipv6.conf.all.disable_ipv6=1?) while the pod got an IPv6 address: enable IPv6 or set assign_ipv6 "false"',
      },
    },
  );
}

/** Name the address and the interface holding it when the kernel says a host route exists. */
async function routeConflict(
  addresses: readonly string[],
  hostIfName: string,
  cause: unknown,
): Promise<CidrpoolError> {
  for (const dst of addresses) {
    const routes = await runIpJson<IpRoute[]>(HERE, [
      isV6(dst) ? '-6' : '-4',
      'route',
      'show',
      'exact',
      dst,
    ]).catch(() => [] as IpRoute[]);
    const holder = routes.find((r) => r.dev !== hostIfName)?.dev;
    if (holder === undefined) continue;
    return new CidrpoolError(
      'KERNEL_EXISTS',
      `route ${dst} already exists for an interface other than '${hostIfName}': dev ${holder}`,
      {
        cause,
        details: {
          hint: `another workload (interface ${holder}) already has ${plain(dst)}: release the stale allocation (\`cidrpool ipam check\`) or delete that route`,
        },
      },
    );
  }
  return cause as CidrpoolError;
}

/**
 * Build the pod's interface (see the file comment). Returns the names and MACs. On failure the
 * veth pair is removed again before the error is thrown (KERNEL_* from the adapter; KERNEL_EXISTS
 * names the interface holding a clashing host route).
 */
export async function wirePod(spec: PodInterfaceSpec): Promise<WiredInterface> {
  const pod: Where = { netns: spec.netns };
  const v4 = spec.addresses.filter((a) => !isV6(a));
  const v6 = spec.addresses.filter(isV6);
  const { hostIfName: host, ifName, mtu, numQueues: q } = spec;

  // A stale host end of the same name (an earlier sandbox of this pod) goes first, as in Calico.
  await deleteLinkIfPresent(HERE, host);
  const sizing = `mtu ${mtu} numtxqueues ${q} numrxqueues ${q}`;
  try {
    await runIpBatch(HERE, [
      `link add ${host} ${sizing} address ${HOST_SIDE_MAC} type veth peer name ${ifName} ${sizing} netns ${spec.netns}`,
    ]);
  } catch (err) {
    if (isCidrpoolError(err, 'KERNEL_EXISTS')) {
      throw new CidrpoolError(
        'KERNEL_EXISTS',
        `${err.message}: ${ifName} already exists in ${spec.netns}`,
        {
          cause: err,
          details: {
            hint: `the pod's namespace has an interface ${ifName} already: DEL the container first, or use another CNI_IFNAME`,
          },
        },
      );
    }
    if (isCidrpoolError(err, 'KERNEL_NETNS_NOT_FOUND')) {
      throw new CidrpoolError(
        'KERNEL_NETNS_NOT_FOUND',
        `CNI_NETNS ${spec.netns} is not a network namespace: ${err.message}`,
        {
          cause: err,
          details: {
            hint: "the runtime must pass the path of the pod's network namespace, e.g. /var/run/netns/<name>",
          },
        },
      );
    }
    throw err;
  }
  try {
    return await configurePair(spec, pod, v4, v6);
  } catch (err) {
    await deleteLinkIfPresent(HERE, host).catch(() => undefined);
    throw err;
  }
}

async function configurePair(
  spec: PodInterfaceSpec,
  pod: Where,
  v4: readonly string[],
  v6: readonly string[],
): Promise<WiredInterface> {
  const { hostIfName: host, ifName } = spec;
  const forward = spec.allowIpForwarding ? '1' : '0';
  // Host end (Calico's configureSysctls): proxy ARP without delay answers for 169.254.1.1;
  // route_localnet allows NAT to the host; IPv6 needs proxy NDP and no DAD before the link is up.
  await writeSysctls(HERE, {
    ...(v4.length > 0
      ? {
          [`net/ipv4/conf/${host}/route_localnet`]: '1',
          [`net/ipv4/neigh/${host}/proxy_delay`]: '0',
          [`net/ipv4/conf/${host}/proxy_arp`]: '1',
          [`net/ipv4/conf/${host}/forwarding`]: '1',
        }
      : {}),
    ...(v6.length > 0
      ? {
          [`net/ipv6/conf/${host}/disable_ipv6`]: '0',
          [`net/ipv6/conf/${host}/accept_dad`]: '0',
          [`net/ipv6/conf/${host}/proxy_ndp`]: '1',
          [`net/ipv6/conf/${host}/forwarding`]: '1',
          [`net/ipv6/conf/${host}/accept_ra`]: '0',
        }
      : {}),
  });
  // Pod end (Calico's configureContainerSysctls): forwarding only when allowed.
  await writeSysctls(pod, {
    ...(v4.length > 0 ? { 'net/ipv4/ip_forward': forward } : {}),
    ...(v6.length > 0
      ? {
          'net/ipv6/conf/all/disable_ipv6': '0',
          'net/ipv6/conf/default/disable_ipv6': '0',
          'net/ipv6/conf/lo/disable_ipv6': '0',
          [`net/ipv6/conf/${ifName}/accept_dad`]: '0',
          'net/ipv6/conf/all/forwarding': forward,
        }
      : {}),
  });

  try {
    await runIpBatch(HERE, [
      `link set ${host} up`,
      ...spec.addresses.map((address) => `route add ${address} dev ${host} scope link`),
    ]);
  } catch (err) {
    if (isCidrpoolError(err, 'KERNEL_EXISTS')) throw await routeConflict(spec.addresses, host, err);
    throw err;
  }

  const routes4 = spec.routes.filter((r) => !isV6(r));
  const shown = await runIpBatch(
    pod,
    [
      `link set ${ifName} up`,
      ...spec.addresses.map((a) => `addr add ${a} dev ${ifName}`),
      ...(v4.length > 0
        ? [
            `route add ${IPV4_GATEWAY}/32 dev ${ifName} scope link`,
            ...routes4.map((dst) => `route add ${dst} via ${IPV4_GATEWAY} dev ${ifName}`),
          ]
        : []),
      `link show dev ${ifName}`,
    ],
    { json: true },
  );
  const podMac = (JSON.parse(shown) as IpLink[])[0]?.address ?? '';

  let v6Gateway: string | undefined;
  if (v6.length > 0) {
    v6Gateway = await hostLinkLocal(host);
    const routes6 = spec.routes.filter(isV6);
    if (routes6.length > 0) {
      await runIpBatch(
        pod,
        routes6.map((dst) => `route add ${dst} via ${v6Gateway} dev ${ifName}`),
      );
    }
  }
  return {
    hostIfName: host,
    hostMac: HOST_SIDE_MAC,
    podMac,
    gateways: {
      ...(v4.length > 0 ? { v4: IPV4_GATEWAY } : {}),
      ...(v6Gateway ? { v6: v6Gateway } : {}),
    },
  };
}

/**
 * Remove the pod's interface (its veth peer on the node goes with it). A namespace or interface
 * that is gone already is no error (DEL must be idempotent). The host end is never deleted by
 * name: a newer sandbox of the same pod may own that name now (Calico deletes in the netns only).
 * Throws KERNEL_* for other failures.
 */
export async function unwirePod(netns: string, ifName: string): Promise<void> {
  if (!netns) return;
  await deleteLinkIfPresent({ netns }, ifName);
}

/** Remove the host end (and so the pair) after a failed ADD; absent is fine. */
export async function removeHostEnd(hostIfName: string): Promise<void> {
  await deleteLinkIfPresent(HERE, hostIfName);
}

function checkFailed(message: string): CidrpoolError {
  return new CidrpoolError('CNI_CHECK_FAILED', message, {
    details: {
      hint: 'the pod network changed behind the runtime; DEL and ADD the container again',
    },
  });
}

/** Routes shown by `ip -j route` name host routes without a prefix length. */
const sameDst = (shown: string, cidr: string): boolean => {
  const full = /\/(32|128)$/.test(cidr) ? plain(cidr) : cidr;
  return (
    shown === full || shown === cidr || (shown === 'default' && /^(0\.0\.0\.0|::)\/0$/.test(cidr))
  );
};

/**
 * CHECK: the pod's interface exists, is up, has the MTU and every address (as /32, /128), its
 * gateway and routes are there, and on the node the host end is up with proxy ARP (IPv4) and a
 * route to each address. Throws CNI_CHECK_FAILED naming the first difference.
 */
export async function checkPod(spec: PodInterfaceSpec): Promise<void> {
  const pod: Where = { netns: spec.netns };
  const { ifName, hostIfName: host } = spec;
  const where = `in ${spec.netns}`;
  let links: IpLink[];
  try {
    links = await runIpJson<IpLink[]>(pod, ['addr', 'show', 'dev', ifName]);
  } catch (err) {
    if (isCidrpoolError(err, 'KERNEL_LINK_NOT_FOUND', 'KERNEL_NETNS_NOT_FOUND'))
      throw checkFailed(`pod interface ${ifName} ${where} is missing: ${err.message}`);
    throw err;
  }
  const link = links[0]!;
  if (!link.flags?.includes('UP')) throw checkFailed(`pod interface ${ifName} ${where} is down`);
  if (link.mtu !== spec.mtu)
    throw checkFailed(`pod interface ${ifName} ${where} has MTU ${link.mtu}, expected ${spec.mtu}`);
  for (const address of spec.addresses) {
    const [ip, prefix] = address.split('/');
    if (!link.addr_info?.some((a) => a.local === ip && a.prefixlen === Number(prefix)))
      throw checkFailed(`pod interface ${ifName} ${where} does not have address ${address}`);
  }

  const v4 = spec.addresses.some((a) => !isV6(a));
  const v6 = spec.addresses.some(isV6);
  const expectRoutes = async (family: '-4' | '-6', gateway: string | undefined) => {
    const routes = await runIpJson<IpRoute[]>(pod, [family, 'route', 'show', 'dev', ifName]);
    for (const dst of spec.routes.filter((r) => isV6(r) === (family === '-6'))) {
      if (
        !routes.some((r) => sameDst(r.dst, dst) && (gateway === undefined || r.gateway === gateway))
      )
        throw checkFailed(
          `pod ${where} has no route ${dst} via ${gateway ?? 'the host'} dev ${ifName}`,
        );
    }
    return routes;
  };
  if (v4) {
    const routes = await expectRoutes('-4', IPV4_GATEWAY);
    if (!routes.some((r) => r.dst === IPV4_GATEWAY && r.scope === 'link'))
      throw checkFailed(`pod ${where} has no route ${IPV4_GATEWAY} dev ${ifName} scope link`);
  }
  if (v6) await expectRoutes('-6', undefined);

  let hostLinks: IpLink[];
  try {
    hostLinks = await runIpJson<IpLink[]>(HERE, ['link', 'show', 'dev', host]);
  } catch (err) {
    if (isCidrpoolError(err, 'KERNEL_LINK_NOT_FOUND'))
      throw checkFailed(`host interface ${host} of the pod is missing`);
    throw err;
  }
  if (!hostLinks[0]?.flags?.includes('UP')) throw checkFailed(`host interface ${host} is down`);
  if (v4 && (await readSysctl(HERE, `net/ipv4/conf/${host}/proxy_arp`)) !== '1')
    throw checkFailed(`host interface ${host} does not have proxy_arp enabled`);
  for (const [family, want] of [
    ['-4', spec.addresses.filter((a) => !isV6(a))],
    ['-6', spec.addresses.filter(isV6)],
  ] as const) {
    if (want.length === 0) continue;
    const routes = await runIpJson<IpRoute[]>(HERE, [family, 'route', 'show', 'dev', host]);
    for (const address of want) {
      if (!routes.some((r) => sameDst(r.dst, address)))
        throw checkFailed(`the node has no route ${address} dev ${host}`);
    }
  }
}
