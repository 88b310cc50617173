// The calicoctl v1 `ipPool` (surfaces.md §5.1) and its conversion to a v3 IPPool (§5.2), as
// libcalico's upgrade converter does it. v1 manifests are accepted wherever v3 ones are.
import { CidrpoolError, type FieldIssue } from '../errors/index.js';
import {
  cidrsOverlap,
  formatCidr,
  parseCidr,
  tryParseCidr,
  tryParseIp,
  type Cidr,
} from '../net/index.js';
import { DEFAULT_ALLOWED_USES, DEFAULT_BLOCK_SIZE, DEFAULT_NODE_SELECTOR } from './defaults.js';
import { tryParsePoolCidr } from './validation/ip-pool.js';
import { API_VERSION_V3, type EncapMode, type IPPool } from './types.js';

export const V1_API_VERSION = 'v1';
export const V1_IPPOOL_KIND = 'ipPool';

export interface V1IpPool {
  apiVersion: typeof V1_API_VERSION;
  kind: typeof V1_IPPOOL_KIND;
  metadata: { cidr?: string };
  spec?: {
    ipip?: { enabled?: boolean; mode?: string };
    'nat-outgoing'?: boolean;
    disabled?: boolean;
  };
}

const V1_MODE = /^(always|cross-subnet|)$/;

type V1Ipip = NonNullable<NonNullable<V1IpPool['spec']>['ipip']>;

/**
 * Whether a v1 pool tunnels with IPIP. The ipPool document (seed 000) gives `ipip.enabled` the
 * default true: an `ipip` object without `enabled` turns IPIP on; no `ipip` object leaves it off.
 */
function ipipEnabled(ipip: V1Ipip | undefined): ipip is V1Ipip {
  return ipip !== undefined && ipip !== null && ipip.enabled !== false;
}

/** The v1 CIDR: a CIDR, or a bare address taken as /32 or /128; undefined when neither. */
function parseV1Cidr(text: string): { cidr: Cidr; masked: boolean } | undefined {
  const ip = tryParseIp(text.trim());
  if (ip) return { cidr: parseCidr(`${text.trim()}/${ip.family === 4 ? 32 : 128}`), masked: true };
  const cidr = tryParsePoolCidr(text);
  if (!cidr) return undefined;
  return { cidr, masked: tryParseCidr(text.trim()) !== undefined };
}

/** The v1 load-time rules (surfaces.md §5.1). Returns every issue; empty when valid. */
export function validateV1IpPool(pool: V1IpPool): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const text = pool.metadata?.cidr;
  const ipip = pool.spec?.ipip;
  if (ipip?.mode !== undefined && !V1_MODE.test(ipip.mode)) {
    issues.push({
      path: 'spec.ipip.mode',
      value: ipip.mode,
      message: 'IPIP mode must be "always", "cross-subnet" or empty',
    });
  }
  if (text === undefined || text === '') {
    issues.push({ path: 'metadata.cidr', value: text, message: 'IP pool CIDR must be specified' });
    return issues;
  }
  const parsed = parseV1Cidr(text);
  if (!parsed) {
    issues.push({
      path: 'metadata.cidr',
      value: text,
      message: 'IP pool CIDR must be a valid subnet',
    });
    return issues;
  }
  const { cidr, masked } = parsed;
  if (!masked) {
    issues.push({
      path: 'metadata.cidr',
      value: text,
      message: 'IP pool CIDR is not strictly masked',
      hint: `the network address is "${formatCidr(cidr)}"`,
    });
  }
  if (ipipEnabled(ipip) && cidr.family === 6) {
    issues.push({
      path: 'spec.ipip.enabled',
      value: true,
      message: 'IPIP is not supported on an IPv6 IP pool',
    });
  }
  const min = DEFAULT_BLOCK_SIZE[cidr.family];
  if (pool.spec?.disabled !== true && cidr.prefix > min) {
    issues.push({
      path: 'metadata.cidr',
      value: text,
      message: `IP pool size is too small (min /${min}) for use with Calico IPAM`,
    });
  }
  const linkLocal = cidr.family === 4 ? '169.254.0.0/16' : 'fe80::/10';
  if (cidrsOverlap(cidr, parseCidr(linkLocal))) {
    issues.push({
      path: 'metadata.cidr',
      value: text,
      message: `IP pool range overlaps with IPv${cidr.family} Link Local range ${linkLocal}`,
    });
  }
  return issues;
}

/** Replace the first `count` occurrences of `from` (Go's strings.Replace with n = count). */
function replaceFirst(text: string, from: string, to: string, count: number): string {
  let out = text;
  for (let i = 0; i < count && out.includes(from); i++) out = out.replace(from, to);
  return out;
}

/**
 * The v3 name libcalico derives from a v1 pool's CIDR (canonical text, then up to 3 `.` and up to
 * 7 `:` and the `/` become `-`): `10.1.0.0/16` -> `10-1-0-0-16`, `2001::/120` -> `2001---120`.
 * Throws RES_INVALID when the text is not a CIDR or an address.
 */
export function v1PoolName(cidrText: string): string {
  const parsed = parseV1Cidr(cidrText);
  if (!parsed) {
    throw new CidrpoolError('RES_INVALID', `IP pool CIDR must be a valid subnet: ${cidrText}`);
  }
  const canonical = formatCidr(parsed.cidr);
  return replaceFirst(replaceFirst(canonical, '.', '-', 3), ':', '-', 7).replace('/', '-');
}

/** surfaces.md §5.2: no IPIP interface -> Never; mode cross-subnet -> CrossSubnet; else Always. */
function ipipModeOf(ipip: V1Ipip | undefined): EncapMode {
  if (!ipipEnabled(ipip)) return 'Never';
  return (ipip.mode ?? '').toLowerCase() === 'cross-subnet' ? 'CrossSubnet' : 'Always';
}

/**
 * Convert a v1 `ipPool` to the v3 IPPool libcalico's converter produces (name from the CIDR,
 * defaults filled in, false booleans left out). Throws RES_INVALID, with every issue, when the
 * v1 load rules fail.
 */
export function convertV1IpPool(pool: V1IpPool): IPPool {
  const issues = validateV1IpPool(pool);
  if (issues.length > 0) {
    throw new CidrpoolError(
      'RES_INVALID',
      issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      { issues },
    );
  }
  const { cidr } = parseV1Cidr(pool.metadata.cidr!)!;
  const spec: IPPool['spec'] = {
    cidr: formatCidr(cidr),
    vxlanMode: 'Never',
    ipipMode: ipipModeOf(pool.spec?.ipip),
  };
  if (pool.spec?.['nat-outgoing'] === true) spec.natOutgoing = true;
  if (pool.spec?.disabled === true) spec.disabled = true;
  spec.blockSize = DEFAULT_BLOCK_SIZE[cidr.family];
  spec.nodeSelector = DEFAULT_NODE_SELECTOR;
  spec.allowedUses = [...DEFAULT_ALLOWED_USES];
  spec.assignmentMode = 'Automatic';
  return {
    apiVersion: API_VERSION_V3,
    kind: 'IPPool',
    metadata: { name: v1PoolName(pool.metadata.cidr!) },
    spec,
  };
}
