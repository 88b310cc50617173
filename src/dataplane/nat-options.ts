// The FelixConfiguration settings that shape natOutgoing (dataplane.md §1.4, §5.2). cidrpool has
// no FelixConfiguration resource; the agent reads them the way Felix also accepts them, from
// FELIX_<NAME> environment variables (Felix's names, upper-cased).
import { CidrpoolError } from '../errors/index.js';
import { formatIp, tryParseIp } from '../net/index.js';

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export type NatOutgoingExclusions = 'IPPoolsOnly' | 'IPPoolsAndHostIPs';

export interface NatOptions {
  /** natOutgoingAddress: SNAT IPv4 traffic to this address instead of MASQUERADE. */
  readonly natOutgoingAddress?: string;
  /** natPortRange: the source ports TCP and UDP masquerade may use. */
  readonly natPortRange?: PortRange;
  /** natOutgoingExclusions; IPPoolsAndHostIPs also keeps the source towards Calico hosts. */
  readonly natOutgoingExclusions: NatOutgoingExclusions;
}

export const NAT_OPTION_VARIABLES = {
  natOutgoingAddress: 'FELIX_NATOUTGOINGADDRESS',
  natPortRange: 'FELIX_NATPORTRANGE',
  natOutgoingExclusions: 'FELIX_NATOUTGOINGEXCLUSIONS',
} as const;

const invalid = (variable: string, value: string, problem: string, fix: string) =>
  new CidrpoolError('NODE_NAT_CONFIG', `${variable}: ${JSON.stringify(value)} ${problem}; ${fix}`, {
    details: { variable, value, hint: fix },
  });

function parsePortRange(variable: string, text: string): PortRange {
  // Felix writes a range as `first:last` (numorstring.Port); a single port is a range of one.
  const match = /^(\d{1,5})(?:[:-](\d{1,5}))?$/.exec(text.trim());
  const first = Number(match?.[1]);
  const last = match?.[2] === undefined ? first : Number(match[2]);
  if (!match || first < 1 || last > 65535 || first > last) {
    throw invalid(
      variable,
      text,
      'is not a port range',
      'write FIRST:LAST with 1 <= FIRST <= LAST <= 65535, e.g. 40000:40100',
    );
  }
  return { first, last };
}

/**
 * The NAT options set in `env`, Felix's defaults for the rest (empty values count as unset).
 * Throws NODE_NAT_CONFIG naming the variable, its value and the fix.
 */
export function parseNatOptions(env: Readonly<Record<string, string | undefined>>): NatOptions {
  const value = (name: string) => (env[name]?.trim() ? env[name] : undefined);
  const addressText = value(NAT_OPTION_VARIABLES.natOutgoingAddress);
  let natOutgoingAddress: string | undefined;
  if (addressText !== undefined) {
    const ip = tryParseIp(addressText.trim());
    if (ip?.family !== 4) {
      throw invalid(
        NAT_OPTION_VARIABLES.natOutgoingAddress,
        addressText,
        'is not an IPv4 address',
        'give the IPv4 address to SNAT to, e.g. 192.168.10.11, or leave it empty for MASQUERADE',
      );
    }
    natOutgoingAddress = formatIp(ip);
  }
  const rangeText = value(NAT_OPTION_VARIABLES.natPortRange);
  const exclusions = value(NAT_OPTION_VARIABLES.natOutgoingExclusions)?.trim() ?? 'IPPoolsOnly';
  if (exclusions !== 'IPPoolsOnly' && exclusions !== 'IPPoolsAndHostIPs') {
    throw invalid(
      NAT_OPTION_VARIABLES.natOutgoingExclusions,
      exclusions,
      'is not a known value',
      'use IPPoolsOnly (the default) or IPPoolsAndHostIPs',
    );
  }
  return {
    ...(natOutgoingAddress !== undefined && { natOutgoingAddress }),
    ...(rangeText !== undefined && {
      natPortRange: parsePortRange(NAT_OPTION_VARIABLES.natPortRange, rangeText),
    }),
    natOutgoingExclusions: exclusions,
  };
}
