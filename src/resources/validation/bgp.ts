// Field rules of BGPConfiguration and BGPPeer (Calico's api/pkg/apis/projectcalico/v3 bgpconfig.go
// and bgppeer.go: the `validate` tags and the CEL rules of the CRDs).
import type { FieldIssue } from '../../errors/index.js';
import { formatIp, tryParseIp, type IpAddress } from '../../net/index.js';
import { validateSelectorText } from '../../selector/index.js';
import type { BGPConfiguration, BGPPeer } from '../types.js';
import { checkIp, checkIpOrCidr } from './address-checks.js';

/** A peer address: the IP and, when `peerIP` names one, the TCP port. */
export interface PeerAddress {
  readonly ip: IpAddress;
  readonly port?: number;
}

/**
 * Parse BGPPeer `peerIP`: `10.0.0.1`, `10.0.0.1:1790`, `fd00::1` or `[fd00::1]:1790`.
 * Returns undefined when the text is none of these.
 */
export function tryParsePeerIp(text: string): PeerAddress | undefined {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  const v4WithPort = /^([0-9.]+):(\d{1,5})$/.exec(text);
  const [host, portText] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : v4WithPort
      ? [v4WithPort[1]!, v4WithPort[2]]
      : [text, undefined];
  const ip = tryParseIp(host);
  if (!ip || (bracketed && ip.family !== 6) || (v4WithPort && ip.family !== 4)) return undefined;
  if (portText === undefined) return { ip };
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { ip, port } : undefined;
}

/** `peerIP` in BIRD's words: the address without the port. */
export const peerIpText = (peer: PeerAddress): string => formatIp(peer.ip);

const LOG_SEVERITY = /^(trace|debug|info|warning|error|fatal)?$/i;
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$/;
const COMMUNITY = /^(\d+):(\d+)$|^(\d+):(\d+):(\d+)$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PROGRAM_CLUSTER_ROUTES = ['Enabled', 'Disabled', 'EnabledNoEncapOnly'];

/** Calico's log levels (case-insensitive), or empty. */
export function checkLogSeverity(path: string, text: string | undefined): FieldIssue[] {
  if (text === undefined || LOG_SEVERITY.test(text)) return [];
  return [
    {
      path,
      value: text,
      message: 'must be a log level',
      hint: 'one of Trace, Debug, Info, Warning, Error, Fatal',
    },
  ];
}

function checkSelectorField(path: string, text: string | undefined): FieldIssue[] {
  if (text === undefined || text === '') return [];
  const issue = validateSelectorText(text);
  return issue ? [{ path, value: text, message: issue.message }] : [];
}

/** A Go duration (`90s`, `2m0s`), as metav1.Duration fields take it. */
export function checkDuration(path: string, text: string | undefined): FieldIssue[] {
  if (text === undefined || GO_DURATION.test(text)) return [];
  return [{ path, value: text, message: 'must be a duration', hint: 'e.g. "90s" or "2m0s"' }];
}

function checkCidrList(path: string, blocks: readonly { cidr?: string }[] | undefined) {
  return (blocks ?? []).flatMap((b, i) => checkIpOrCidr(`${path}[${i}].cidr`, b.cidr));
}

/**
 * A community value: `aa:nn` (standard, 16-bit numbers) or `aa:nn:mm` (large, 32-bit numbers).
 * Returns the problem, or undefined when the value is one.
 */
function communityProblem(value: string | undefined): string | undefined {
  const m = COMMUNITY.exec(value ?? '');
  if (!m) return 'invalid community value or format used.';
  const parts = value!.split(':');
  const max = parts.length === 3 ? 0xffffffff : 0xffff;
  return parts.every((p) => Number(p) <= max)
    ? undefined
    : `invalid community value, expected ${parts.length === 3 ? 32 : 16} bit value`;
}

/** libcalico's validateBGPConfigurationSpec: communities, and where prefix advertisements use them. */
function checkCommunities(spec: BGPConfiguration['spec']): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const communities = spec.communities ?? [];
  communities.forEach((c, i) => {
    if (!c.name || !DNS_NAME.test(c.name)) {
      issues.push({
        path: `spec.communities[${i}].name`,
        value: c.name,
        message: 'must be a name',
      });
    }
    const problem = communityProblem(c.value);
    if (problem) {
      const hint = 'aa:nn (standard, 16-bit numbers) or aa:nn:mm (large, 32-bit numbers)';
      issues.push({ path: `spec.communities[${i}].value`, value: c.value, message: problem, hint });
    }
  });
  const advertisements = spec.prefixAdvertisements ?? [];
  if (advertisements.length === 0 && communities.length > 0) {
    issues.push({
      path: 'spec.communities',
      value: communities.map((c) => c.name).join(','),
      message: 'communities are defined but not used in Spec.PrefixAdvertisement[].',
      hint: 'add prefixAdvertisements that name them, or remove the communities',
    });
  }
  advertisements.forEach((p, i) => {
    issues.push(...checkIpOrCidr(`spec.prefixAdvertisements[${i}].cidr`, p.cidr ?? ''));
    (p.communities ?? []).forEach((value, j) => {
      if (!communityProblem(value) || communities.some((c) => c.name === value)) return;
      issues.push({
        path: `spec.prefixAdvertisements[${i}].communities[${j}]`,
        value,
        message: 'community used is invalid or not defined.',
        hint: 'a value aa:nn or aa:nn:mm, or the name of an entry of spec.communities',
      });
    });
  });
  return issues;
}

/** Every problem of a BGPConfiguration's spec (Calico's validate tags and CEL rules). */
export function validateBgpConfigurationSpec(config: BGPConfiguration): FieldIssue[] {
  const spec = config.spec ?? {};
  const issues: FieldIssue[] = [];
  issues.push(...checkLogSeverity('spec.logSeverityScreen', spec.logSeverityScreen));
  issues.push(...checkCidrList('spec.serviceLoadBalancerIPs', spec.serviceLoadBalancerIPs));
  issues.push(...checkCidrList('spec.serviceExternalIPs', spec.serviceExternalIPs));
  issues.push(...checkCidrList('spec.serviceClusterIPs', spec.serviceClusterIPs));
  issues.push(...checkCommunities(spec));
  issues.push(...checkDuration('spec.nodeMeshMaxRestartTime', spec.nodeMeshMaxRestartTime));
  issues.push(...checkIp('spec.localWorkloadPeeringIPV4', spec.localWorkloadPeeringIPV4, 4));
  issues.push(...checkIp('spec.localWorkloadPeeringIPV6', spec.localWorkloadPeeringIPV6, 6));
  const clusterRoutes = spec.programClusterRoutes;
  if (clusterRoutes !== undefined && !PROGRAM_CLUSTER_ROUTES.includes(clusterRoutes)) {
    issues.push({
      path: 'spec.programClusterRoutes',
      value: clusterRoutes,
      message: `must be one of ${PROGRAM_CLUSTER_ROUTES.join(', ')}`,
    });
  }
  if (spec.nodeToNodeMeshEnabled === false) {
    for (const field of ['nodeMeshPassword', 'nodeMeshMaxRestartTime'] as const) {
      if (spec[field] === undefined) continue;
      issues.push({
        path: `spec.${field}`,
        value: spec[field],
        message: `${field} cannot be set when nodeToNodeMeshEnabled is false`,
        hint: `remove ${field} or set nodeToNodeMeshEnabled: true`,
      });
    }
  }
  return issues;
}

/** Every problem of a BGPPeer's spec (Calico's validate tags and the CRD's CEL rules). */
export function validateBgpPeerSpec(peer: BGPPeer): FieldIssue[] {
  const spec = peer.spec ?? {};
  const issues: FieldIssue[] = [];
  const has = (text: string | undefined): boolean => text !== undefined && text !== '';
  if (has(spec.node) && (spec.node!.length > 253 || !DNS_NAME.test(spec.node!))) {
    issues.push({ path: 'spec.node', value: spec.node, message: 'must be a node name' });
  }
  issues.push(...checkSelectorField('spec.nodeSelector', spec.nodeSelector));
  issues.push(...checkSelectorField('spec.peerSelector', spec.peerSelector));
  issues.push(...checkSelectorField('spec.localWorkloadSelector', spec.localWorkloadSelector));
  if (has(spec.peerIP) && !tryParsePeerIp(spec.peerIP!)) {
    issues.push({
      path: 'spec.peerIP',
      value: spec.peerIP,
      message: 'must be an IP address with an optional port',
      hint: 'e.g. "192.168.20.1", "192.168.20.1:1790" or "[fd00::1]:1790"',
    });
  }
  issues.push(...checkIp('spec.reachableBy', spec.reachableBy));
  issues.push(...checkDuration('spec.maxRestartTime', spec.maxRestartTime));
  issues.push(...checkDuration('spec.keepaliveTime', spec.keepaliveTime));
  // HEAD's CEL texts; the hint carries v3.32's libcalico words (`Node field must be empty when
  // NodeSelector is specified`), so either release's message is found.
  const exclusive = (a: 'node' | 'peerIP' | 'peerSelector', b: keyof typeof spec, old?: string) => {
    if (has(spec[a]) && has(spec[b] as string)) {
      issues.push({
        path: `spec.${b}`,
        value: spec[b],
        message: `${a} and ${b} cannot both be set`,
        hint: old ? `${old}; remove one of them` : `remove one of ${a} and ${b}`,
      });
    }
  };
  exclusive('node', 'nodeSelector', 'Node field must be empty when NodeSelector is specified');
  exclusive('peerIP', 'peerSelector', 'PeerIP field must be empty when PeerSelector is specified');
  exclusive('peerIP', 'localWorkloadSelector');
  exclusive('peerSelector', 'localWorkloadSelector');
  if (has(spec.peerSelector) && spec.asNumber) {
    issues.push({
      path: 'spec.asNumber',
      value: spec.asNumber,
      message: 'asNumber must be empty when peerSelector is set',
      hint: "ASNumber field must be empty when PeerSelector is specified; the peers' AS numbers come from their Node resources (spec.bgp.asNumber)",
    });
  }
  if (has(spec.localWorkloadSelector) && !spec.asNumber) {
    issues.push({
      path: 'spec.asNumber',
      value: spec.asNumber,
      message: 'asNumber is required when localWorkloadSelector is set',
    });
  }
  const peerAddress = has(spec.peerIP) ? tryParsePeerIp(spec.peerIP!) : undefined;
  const via = has(spec.reachableBy) ? tryParseIp(spec.reachableBy!) : undefined;
  if (peerAddress && via && peerAddress.ip.family !== via.family) {
    issues.push({
      path: 'spec.reachableBy',
      value: spec.reachableBy,
      message: 'reachableBy and peerIP must be of the same IP family',
    });
  }
  if (has(spec.peerIP) && !spec.asNumber) {
    issues.push({
      path: 'spec.asNumber',
      value: spec.asNumber ?? 0,
      message: 'asNumber is required with peerIP',
      hint: "set the peer's AS number, e.g. asNumber: 65000",
    });
  }
  return issues;
}
