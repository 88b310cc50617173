// Field rules of the kinds other than IPPool: IPReservation (§1.7), IPAMConfiguration (§1.8),
// Node and WorkloadEndpoint (the address-valued fields IPAM and the CLI rely on).
import type { FieldIssue } from '../../errors/index.js';
import { IPAM_CONFIG_MESSAGES as M } from '../messages.js';
import type { IPAMConfiguration, IPReservation, Node, WorkloadEndpoint } from '../types.js';
import { checkIp, checkIpOrCidr, checkMac, checkRange } from './address-checks.js';

/** Each entry is a CIDR or a bare IP (Calico's `cidrs` tag); entries form a set. */
export function validateIpReservationSpec(reservation: IPReservation): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  (reservation.spec?.reservedCIDRs ?? []).forEach((entry, i) => {
    const path = `spec.reservedCIDRs[${i}]`;
    const found = checkIpOrCidr(path, entry);
    if (found.length > 0 || entry.trim() === '') {
      issues.push({
        path,
        value: entry,
        message: 'must be a CIDR or an IP address',
        hint: 'e.g. "10.0.0.16/28" or "10.0.0.1"',
      });
    } else if (seen.has(entry)) {
      issues.push({ path, value: entry, message: 'reservedCIDRs must not list an entry twice' });
    }
    seen.add(entry);
  });
  return issues;
}

/** Name `default`, ranges, and the cross-field rules that libcalico's SetIPAMConfig applies. */
export function validateIpamConfigurationSpec(config: IPAMConfiguration): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const name = config.metadata?.name;
  if (name !== undefined && name !== '' && name !== 'default') {
    issues.push({
      path: 'metadata.name',
      value: name,
      message: M.nameNotDefault,
      hint: 'name it "default"',
    });
  }
  const spec = config.spec ?? ({} as IPAMConfiguration['spec']);
  issues.push(
    ...checkRange('spec.maxBlocksPerHost', spec.maxBlocksPerHost, 0, 1_000_000, M.maxBlocksRange),
  );
  issues.push(
    ...checkRange('spec.ipCooldownSeconds', spec.ipCooldownSeconds, 0, 1200, M.cooldownRange),
  );
  const strict = spec.strictAffinity === true;
  const auto = spec.autoAllocateBlocks !== false;
  if (!strict && !auto) {
    issues.push({
      path: 'spec.autoAllocateBlocks',
      value: false,
      message: M.bothDisabled,
      hint: 'set strictAffinity: true or autoAllocateBlocks: true',
    });
  }
  if (typeof spec.maxBlocksPerHost === 'number' && spec.maxBlocksPerHost > 0 && !strict) {
    issues.push({
      path: 'spec.maxBlocksPerHost',
      value: spec.maxBlocksPerHost,
      message: M.maxBlocksNeedsStrict,
      hint: 'set strictAffinity: true, or maxBlocksPerHost: 0',
    });
  }
  return issues;
}

/** BGP and tunnel addresses parse, in the right family; MACs and the AS number are well formed. */
export function validateNodeSpec(node: Node): FieldIssue[] {
  const spec = node.spec ?? {};
  const bgp = spec.bgp ?? {};
  return [
    ...checkRange('spec.bgp.asNumber', bgp.asNumber, 0, 4294967295),
    ...checkIpOrCidr('spec.bgp.ipv4Address', bgp.ipv4Address, 4),
    ...checkIpOrCidr('spec.bgp.ipv6Address', bgp.ipv6Address, 6),
    ...checkIp('spec.bgp.ipv4IPIPTunnelAddr', bgp.ipv4IPIPTunnelAddr, 4),
    ...checkIp('spec.ipv4VXLANTunnelAddr', spec.ipv4VXLANTunnelAddr, 4),
    ...checkIp('spec.ipv6VXLANTunnelAddr', spec.ipv6VXLANTunnelAddr, 6),
    ...checkMac('spec.vxlanTunnelMACAddr', spec.vxlanTunnelMACAddr),
    ...checkMac('spec.vxlanTunnelMACAddrV6', spec.vxlanTunnelMACAddrV6),
    ...checkIp('spec.wireguard.interfaceIPv4Address', spec.wireguard?.interfaceIPv4Address, 4),
    ...checkIp('spec.wireguard.interfaceIPv6Address', spec.wireguard?.interfaceIPv6Address, 6),
    ...(spec.addresses ?? []).flatMap((a, i) =>
      checkIpOrCidr(`spec.addresses[${i}].address`, a.address),
    ),
  ];
}

/** ipNetworks, gateways, NATs and spoofing prefixes parse; MAC and ports are well formed. */
export function validateWorkloadEndpointSpec(wep: WorkloadEndpoint): FieldIssue[] {
  const spec = wep.spec ?? {};
  return [
    ...(spec.ipNetworks ?? []).flatMap((n, i) => checkIpOrCidr(`spec.ipNetworks[${i}]`, n)),
    ...checkIp('spec.ipv4Gateway', spec.ipv4Gateway, 4),
    ...checkIp('spec.ipv6Gateway', spec.ipv6Gateway, 6),
    ...(spec.ipNATs ?? []).flatMap((nat, i) => [
      ...checkIp(`spec.ipNATs[${i}].internalIP`, nat.internalIP ?? ''),
      ...checkIp(`spec.ipNATs[${i}].externalIP`, nat.externalIP ?? ''),
    ]),
    ...checkMac('spec.mac', spec.mac),
    ...(spec.ports ?? []).flatMap((p, i) => [
      ...checkRange(`spec.ports[${i}].port`, p.port, 0, 65535),
      ...checkRange(`spec.ports[${i}].hostPort`, p.hostPort, 0, 65535),
      ...checkIp(`spec.ports[${i}].hostIP`, p.hostIP),
    ]),
    ...(spec.allowSpoofedSourcePrefixes ?? []).flatMap((n, i) =>
      checkIpOrCidr(`spec.allowSpoofedSourcePrefixes[${i}]`, n),
    ),
  ];
}
