// Node registration, the agent's first service (calico/node's startup): find the node's IPv4
// and IPv6 addresses (given or autodetected, always with their prefix length) and write them to
// the Node resource's spec.bgp, creating the Node when it does not exist. Other fields (tunnel
// addresses, labels) are kept.
import { CidrpoolError } from '../errors/index.js';
import { readInterfaces, routeSourceTo, type InterfaceInfo } from '../kernel/interfaces.js';
import type { IpFamily } from '../net/index.js';
import type { Node } from '../resources/types.js';
import {
  autodetectAddress,
  findInterfaceAddress,
  parseAddressFlag,
  parseAutodetectionMethod,
} from './autodetect.js';
import type { AgentContext, AgentService, NodeRunOptions } from './types.js';

/** How often a write of the Node is retried after a conflicting concurrent write. */
const CONFLICT_RETRIES = 5;

/** The node's addresses as they will be registered (ADDR/PREFIX), or undefined for none. */
export interface NodeAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/**
 * Resolve --ip/--ip6 and the autodetection method against the node's interfaces.
 * @throws CidrpoolError NODE_INVALID_ADDRESS, NODE_INVALID_AUTODETECTION, NODE_ADDRESS_NOT_FOUND
 */
export async function resolveNodeAddresses(
  options: Pick<NodeRunOptions, 'ipv4' | 'ipv6' | 'ipAutodetectionMethod'>,
  interfaces: readonly InterfaceInfo[],
  routeSource = routeSourceTo,
): Promise<NodeAddresses> {
  const method = parseAutodetectionMethod(options.ipAutodetectionMethod);
  const resolve = async (value: string | undefined, family: IpFamily, flag: string) => {
    const request = parseAddressFlag(value, family, flag);
    if (request.kind === 'none') return undefined;
    if (request.kind === 'autodetect')
      return autodetectAddress(method, family, interfaces, routeSource);
    if (request.prefix !== undefined) return `${request.ip}/${request.prefix}`;
    const onInterface = findInterfaceAddress(interfaces, request.ip);
    if (onInterface) return onInterface;
    throw new CidrpoolError(
      'NODE_INVALID_ADDRESS',
      `${flag} ${JSON.stringify(value)} has no prefix length and no interface holds it; write it with the prefix of its subnet (e.g. ${request.ip}/24)`,
      { details: { flag, value } },
    );
  };
  return {
    ipv4: await resolve(options.ipv4, 4, '--ip'),
    ipv6: await resolve(options.ipv6, 6, '--ip6'),
  };
}

/** The Node with `addresses` written into spec.bgp (a new Node when `existing` is undefined). */
export function nodeWithAddresses(
  name: string,
  existing: Node | undefined,
  addresses: NodeAddresses,
): Node {
  const node: Node = existing
    ? structuredClone(existing)
    : { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} };
  const bgp = { ...(node.spec.bgp ?? {}) };
  if (addresses.ipv4) bgp.ipv4Address = addresses.ipv4;
  else delete bgp.ipv4Address;
  if (addresses.ipv6) bgp.ipv6Address = addresses.ipv6;
  else delete bgp.ipv6Address;
  node.spec = { ...node.spec, bgp };
  return node;
}

/**
 * Create or update the Node so that spec.bgp holds `addresses`; a write that loses a race is
 * retried. Returns the stored Node.
 * @throws CidrpoolError CLIENT_* from the resource client, DS_UNAVAILABLE
 */
export async function registerNode(context: AgentContext, addresses: NodeAddresses): Promise<Node> {
  const name = context.options.nodeName;
  for (let attempt = 1; ; attempt++) {
    const existing = (await context.client.find('Node', name)) as Node | undefined;
    const wanted = nodeWithAddresses(name, existing, addresses);
    if (existing && JSON.stringify(existing.spec.bgp ?? {}) === JSON.stringify(wanted.spec.bgp))
      return existing;
    try {
      return existing ? await context.client.update(wanted) : await context.client.create(wanted);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const raced = code === 'CLIENT_CONFLICT' || code === 'CLIENT_ALREADY_EXISTS';
      if (!raced || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

/** The registration service: resolves and writes the node's addresses once, at start. */
export const nodeRegistrationService: AgentService = {
  name: 'node-registration',
  async start(context) {
    const addresses = await resolveNodeAddresses(context.options, await readInterfaces());
    for (const address of [addresses.ipv4, addresses.ipv6]) {
      if (address?.endsWith('/32') || address?.endsWith('/128')) {
        context.log(
          'warning',
          'the node address has a host prefix: CrossSubnet will see no peer in its subnet (calico#4254)',
          {
            address,
          },
        );
      }
    }
    const node = await registerNode(context, addresses);
    context.log('info', 'node registered', {
      node: node.metadata.name,
      ipv4: node.spec.bgp?.ipv4Address ?? 'none',
      ipv6: node.spec.bgp?.ipv6Address ?? 'none',
    });
    return { stop: async () => undefined };
  },
};
