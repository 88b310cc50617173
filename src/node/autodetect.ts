// The node's own address, as calico/node finds it (node/pkg/lifecycle/startup/autodetection):
// given with --ip/--ip6, or autodetected by one of the methods of --ip-autodetection-method.
// The result keeps the interface's prefix length, because CrossSubnet's same-subnet test uses it
// (issues #2375, #4254: a /32 makes every peer look remote).
import { CidrpoolError } from '../errors/index.js';
import type { InterfaceAddress, InterfaceInfo } from '../kernel/interfaces.js';
import {
  cidrContainsIp,
  formatIp,
  parseCidrMasked,
  tryParseIp,
  type Cidr,
  type IpFamily,
} from '../net/index.js';

/** Interfaces first-found skips (calico/node's defaults plus the agent's own devices). */
const SKIPPED_INTERFACES = [
  /^docker/,
  /^cbr/,
  /^dummy/,
  /^virbr/,
  /^lxcbr/,
  /^veth/,
  /^lo$/,
  /^cali/,
  /^tunl/,
  /^flannel/,
  /^kube-ipvs/,
  /^cni/,
  /^vxlan\.calico/,
  /^vxlan-v6\.calico/,
  /^wireguard\.cali/,
  /^wg-v6\.cali/,
  /^nodelocaldns/,
  /^podman/,
];

/** A parsed --ip-autodetection-method. */
export type AutodetectionMethod =
  | { readonly kind: 'first-found' }
  | { readonly kind: 'interface'; readonly patterns: readonly RegExp[] }
  | { readonly kind: 'skip-interface'; readonly patterns: readonly RegExp[] }
  | { readonly kind: 'can-reach'; readonly destination: string }
  | { readonly kind: 'cidr'; readonly cidrs: readonly Cidr[] };

const badMethod = (value: string, why: string) =>
  new CidrpoolError(
    'NODE_INVALID_AUTODETECTION',
    `--ip-autodetection-method ${JSON.stringify(value)}: ${why}; use first-found, interface=REGEX, skip-interface=REGEX, can-reach=ADDR or cidr=CIDR[,CIDR...]`,
    { details: { value } },
  );

function regexes(value: string, list: string): RegExp[] {
  return list.split(',').map((text) => {
    try {
      return new RegExp(text);
    } catch {
      throw badMethod(value, `${JSON.stringify(text)} is not a regular expression`);
    }
  });
}

/**
 * Parse an autodetection method (undefined: first-found).
 * @throws CidrpoolError NODE_INVALID_AUTODETECTION naming the value and the accepted forms
 */
export function parseAutodetectionMethod(value: string | undefined): AutodetectionMethod {
  if (value === undefined || value === '' || value === 'first-found')
    return { kind: 'first-found' };
  const at = value.indexOf('=');
  const name = at < 0 ? value : value.slice(0, at);
  const arg = at < 0 ? '' : value.slice(at + 1);
  if (at >= 0 && arg === '') throw badMethod(value, `${name}= needs a value`);
  switch (name) {
    case 'interface':
      return { kind: 'interface', patterns: regexes(value, arg) };
    case 'skip-interface':
      return { kind: 'skip-interface', patterns: regexes(value, arg) };
    case 'can-reach':
      if (!arg) throw badMethod(value, 'can-reach= needs an address or host name');
      return { kind: 'can-reach', destination: arg };
    case 'cidr':
      return {
        kind: 'cidr',
        cidrs: arg.split(',').map((text) => {
          try {
            return parseCidrMasked(text.trim());
          } catch {
            throw badMethod(value, `${JSON.stringify(text)} is not a CIDR`);
          }
        }),
      };
    default:
      throw badMethod(value, `unknown method ${JSON.stringify(name)}`);
  }
}

/** What the address flags say for one family. */
export type AddressRequest =
  | { readonly kind: 'none' }
  | { readonly kind: 'autodetect' }
  | { readonly kind: 'given'; readonly ip: string; readonly prefix?: number };

/**
 * Parse --ip / --ip6: `none`, `autodetect`, or ADDR[/PREFIX] of `family`.
 * @throws CidrpoolError NODE_INVALID_ADDRESS naming the flag and value
 */
export function parseAddressFlag(
  value: string | undefined,
  family: IpFamily,
  flag: string,
): AddressRequest {
  if (value === undefined) return family === 4 ? { kind: 'autodetect' } : { kind: 'none' };
  if (value === 'none') return { kind: 'none' };
  if (value === 'autodetect') return { kind: 'autodetect' };
  const [ipText, prefixText, extra] = value.split('/');
  const ip = tryParseIp(ipText ?? '');
  const prefix = prefixText === undefined ? undefined : Number(prefixText);
  const bits = family === 4 ? 32 : 128;
  const valid =
    ip !== undefined &&
    ip.family === family &&
    extra === undefined &&
    (prefix === undefined ||
      (Number.isInteger(prefix) && prefix >= 1 && prefix <= bits && prefixText !== ''));
  if (!valid) {
    const example = family === 4 ? '192.168.10.11/24' : 'fd00:10::11/64';
    throw new CidrpoolError(
      'NODE_INVALID_ADDRESS',
      `${flag} ${JSON.stringify(value)} is not an IPv${family} address with its prefix length; write it as ${example}, or "autodetect" or "none"`,
      { details: { flag, value } },
    );
  }
  return { kind: 'given', ip: formatIp(ip), prefix };
}

const usable = (a: InterfaceAddress, family: IpFamily) =>
  a.family === family && a.scope === 'global';
const withPrefix = (a: InterfaceAddress) => `${a.ip}/${a.prefix}`;

/** The first usable address of `family` on the first interface that passes `accept`. */
function firstAddress(
  interfaces: readonly InterfaceInfo[],
  family: IpFamily,
  accept: (i: InterfaceInfo) => boolean,
): string | undefined {
  for (const i of interfaces) {
    if (i.loopback || !accept(i)) continue;
    const address = i.addresses.find((a) => usable(a, family));
    if (address) return withPrefix(address);
  }
  return undefined;
}

/** The interface address equal to `ip`, with its prefix, or undefined. */
export function findInterfaceAddress(
  interfaces: readonly InterfaceInfo[],
  ip: string,
): string | undefined {
  for (const i of interfaces) {
    const address = i.addresses.find((a) => a.ip === ip);
    if (address) return withPrefix(address);
  }
  return undefined;
}

/** The name of the interface holding `ip`, or undefined. */
export function interfaceHolding(
  interfaces: readonly InterfaceInfo[],
  ip: string,
): string | undefined {
  return interfaces.find((i) => i.addresses.some((a) => a.ip === ip))?.name;
}

/**
 * Autodetect the node's address of `family` with `method` on `interfaces`; `routeSource` answers
 * can-reach. Returns ADDR/PREFIX.
 * @throws CidrpoolError NODE_ADDRESS_NOT_FOUND saying what was searched
 */
export async function autodetectAddress(
  method: AutodetectionMethod,
  family: IpFamily,
  interfaces: readonly InterfaceInfo[],
  routeSource: (destination: string) => Promise<{ source?: string } | undefined>,
): Promise<string> {
  let found: string | undefined;
  switch (method.kind) {
    case 'first-found':
      found = firstAddress(
        interfaces,
        family,
        (i) => !SKIPPED_INTERFACES.some((re) => re.test(i.name)),
      );
      break;
    case 'interface':
      found = firstAddress(interfaces, family, (i) =>
        method.patterns.some((re) => re.test(i.name)),
      );
      break;
    case 'skip-interface':
      found = firstAddress(
        interfaces,
        family,
        (i) =>
          !method.patterns.some((re) => re.test(i.name)) &&
          !SKIPPED_INTERFACES.some((re) => re.test(i.name)),
      );
      break;
    case 'can-reach': {
      const route = await routeSource(method.destination);
      found = route?.source ? findInterfaceAddress(interfaces, route.source) : undefined;
      break;
    }
    case 'cidr':
      for (const i of interfaces) {
        if (SKIPPED_INTERFACES.some((re) => re.test(i.name))) continue;
        const address = i.addresses.find((a) => {
          const ip = tryParseIp(a.ip);
          return (
            usable(a, family) &&
            ip !== undefined &&
            method.cidrs.some((c) => c.family === family && cidrContainsIp(c, ip))
          );
        });
        if (address) {
          found = withPrefix(address);
          break;
        }
      }
      break;
  }
  if (found === undefined) {
    throw new CidrpoolError(
      'NODE_ADDRESS_NOT_FOUND',
      `no IPv${family} address found by autodetection method ${method.kind}; give the address with --ip${family === 6 ? '6' : ''} ADDR/PREFIX or choose another --ip-autodetection-method`,
      { details: { family, method: method.kind } },
    );
  }
  return found;
}
