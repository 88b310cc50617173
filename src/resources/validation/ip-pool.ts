// IPPool rules 1-17 and 21 of ipam-core.md §1.3 (rule 18, the name, is in metadata.ts; rules 19
// and 20 need the datastore and live in src/client).
import type { FieldIssue } from '../../errors/index.js';
import {
  cidrsOverlap,
  formatCidr,
  parseCidr,
  parseCidrMasked,
  tryParseCidr,
  type Cidr,
} from '../../net/index.js';
import { parseSelector } from '../../selector/index.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_NODE_SELECTOR, withDefaults } from '../defaults.js';
import { POOL_MESSAGES as M } from '../messages.js';
import type { AllowedUse, EncapMode, IPPool } from '../types.js';

const LINK_LOCAL_4 = parseCidrLazy('169.254.0.0/16');
const LINK_LOCAL_6 = parseCidrLazy('fe80::/10');
const USES: readonly string[] = ['Workload', 'Tunnel', 'LoadBalancer'] satisfies AllowedUse[];
const BLOCK_RANGE = { 4: [20, 32], 6: [116, 128] } as const;

/** src/net may be loaded after this module is; parse the constants on first use. */
function parseCidrLazy(text: string): () => Cidr {
  let cached: Cidr | undefined;
  return () => (cached ??= parseCidr(text));
}

/** True when an encapsulation mode turns encapsulation on (absent, empty and Never do not). */
export const isEncapEnabled = (mode: EncapMode | '' | undefined): boolean =>
  mode !== undefined && mode !== '' && mode !== 'Never';

/** The pool's network with host bits masked, or undefined when the text is not a CIDR. */
export function tryParsePoolCidr(text: unknown): Cidr | undefined {
  if (typeof text !== 'string' || !text.includes('/')) return undefined;
  try {
    return parseCidrMasked(text.trim());
  } catch {
    return undefined;
  }
}

function checkCidr(text: unknown): { issues: FieldIssue[]; cidr?: Cidr } {
  const path = 'spec.cidr';
  if (text === undefined || text === '') {
    return { issues: [{ path, value: text, message: M.cidrRequired }] };
  }
  const cidr = tryParsePoolCidr(text);
  if (!cidr) {
    const hint =
      typeof text === 'string' && !text.includes('/')
        ? 'a pool needs a prefix length, e.g. "10.0.0.0/16"'
        : undefined;
    return { issues: [{ path, value: text, message: M.cidrInvalid, hint }] };
  }
  const issues: FieldIssue[] = [];
  if (!tryParseCidr((text as string).trim())) {
    issues.push({
      path,
      value: text,
      message: M.cidrNotMasked,
      hint: `${M.cidrNotMaskedOld}: the network address is "${formatCidr(cidr)}"`,
    });
  }
  if (cidr.family === 4 && cidrsOverlap(cidr, LINK_LOCAL_4())) {
    issues.push({ path, value: text, message: M.linkLocal4, hint: M.linkLocalHint(4) });
  }
  if (cidr.family === 6 && cidrsOverlap(cidr, LINK_LOCAL_6())) {
    issues.push({ path, value: text, message: M.linkLocal6, hint: M.linkLocalHint(6) });
  }
  return { issues, cidr };
}

function checkSelector(
  field: 'nodeSelector' | 'namespaceSelector',
  text: string | undefined,
): FieldIssue[] {
  if (text === undefined || text === '') return [];
  const path = `spec.${field}`;
  if (text.length > 1024) return [{ path, value: text, message: M.selectorTooLong }];
  // Calico's rule 16 is a plain substring test, so `global(` inside a label value also fails.
  if (text.includes('global(')) return [{ path, value: text, message: M.globalSelector(field) }];
  try {
    parseSelector(text);
    return [];
  } catch (err) {
    // The selector error names the column itself (`... at column 5: ...`); its multi-line caret
    // excerpt does not fit a one-line field message, so it is left out.
    return [{ path, value: text, message: err instanceof Error ? err.message : String(err) }];
  }
}

function checkAllowedUses(uses: readonly unknown[] | undefined): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<unknown>();
  (uses ?? []).forEach((use, i) => {
    const path = `spec.allowedUses[${i}]`;
    if (typeof use !== 'string' || !USES.includes(use)) {
      issues.push({
        path,
        value: use,
        message: M.unknownUse(String(use)),
        hint: 'allowed uses are Workload, Tunnel and LoadBalancer',
      });
    } else if (seen.has(use)) {
      issues.push({ path, value: use, message: M.duplicateUse });
    }
    seen.add(use);
  });
  if ((uses?.length ?? 0) > 10) {
    issues.push({ path: 'spec.allowedUses', value: uses, message: M.tooManyUses });
  }
  return issues;
}

/**
 * Every IPPool rule of ipam-core.md §1.3 that needs no datastore (1-17), for IPv4 and IPv6.
 * Absent fields are judged by their defaults (e.g. allowedUses [Workload, Tunnel]), as libcalico
 * defaults before it validates. Returns every issue found; empty when the pool is valid.
 */
export function validateIpPoolSpec(pool: IPPool): FieldIssue[] {
  const spec = pool.spec ?? {};
  const effective = withDefaults(pool).spec;
  const { issues, cidr } = checkCidr(spec.cidr);
  const family = cidr?.family;

  // Rule 6 (and the schema's 0..128 when the family is unknown).
  const bs = spec.blockSize;
  let blockSizeOk = true;
  if (typeof bs === 'number' && bs !== 0) {
    if (family) {
      const [min, max] = BLOCK_RANGE[family];
      if (bs < min || bs > max) {
        blockSizeOk = false;
        issues.push({
          path: 'spec.blockSize',
          value: bs,
          message: M.blockSizeRange,
          hint: `${M.blockSizeRangeOf(family, min, max)} (default ${DEFAULT_BLOCK_SIZE[family]})`,
        });
      }
    } else if (bs < 0 || bs > 128) {
      issues.push({ path: 'spec.blockSize', value: bs, message: M.blockSizeSchema });
    }
  }
  // Rule 7: an enabled pool holds at least one block.
  if (cidr && blockSizeOk && spec.disabled !== true) {
    const blockSize = typeof bs === 'number' && bs !== 0 ? bs : DEFAULT_BLOCK_SIZE[cidr.family];
    if (cidr.prefix > blockSize) {
      issues.push({
        path: 'spec.cidr',
        value: spec.cidr,
        message: M.poolTooSmall,
        hint: `a /${cidr.prefix} pool is smaller than one /${blockSize} block: use a prefix length of at most ${blockSize}, a blockSize of at least ${cidr.prefix}, or disabled: true`,
      });
    }
  }
  // Rules 8 and 9.
  const ipip = isEncapEnabled(spec.ipipMode);
  const vxlan = isEncapEnabled(spec.vxlanMode);
  if (ipip && vxlan) {
    issues.push({
      path: 'spec.vxlanMode',
      value: spec.vxlanMode,
      message: M.ipipAndVxlan,
      hint: `${M.ipipAndVxlanOld}: ipipMode is ${spec.ipipMode}; set one of them to Never`,
    });
  }
  if (family === 6 && ipip) {
    issues.push({
      path: 'spec.ipipMode',
      value: spec.ipipMode,
      message: M.ipipOnV6,
      hint: `${M.ipipOnV6Old}: use vxlanMode to encapsulate IPv6`,
    });
  }
  // Rules 10-15.
  issues.push(...checkAllowedUses(spec.allowedUses));
  const uses = new Set<string>(effective.allowedUses ?? []);
  if (uses.has('LoadBalancer')) {
    if (uses.has('Workload') || uses.has('Tunnel')) {
      issues.push({
        path: 'spec.allowedUses',
        value: spec.allowedUses,
        message: M.loadBalancerExclusive,
        hint: 'use a separate pool for Workload and Tunnel addresses',
      });
    }
    for (const field of ['ipipMode', 'vxlanMode'] as const) {
      if (isEncapEnabled(spec[field])) {
        issues.push({
          path: `spec.${field}`,
          value: spec[field],
          message: M.loadBalancerEncap,
          hint: `set ${field} to Never`,
        });
      }
    }
    if (spec.disableBGPExport === true) {
      issues.push({ path: 'spec.disableBGPExport', value: true, message: M.loadBalancerBgpExport });
    }
    if (effective.nodeSelector !== DEFAULT_NODE_SELECTOR) {
      issues.push({
        path: 'spec.nodeSelector',
        value: spec.nodeSelector,
        message: M.loadBalancerNodeSelector,
        hint: 'set nodeSelector to all() or leave it out',
      });
    }
  }
  if (uses.has('Tunnel') && spec.namespaceSelector) {
    issues.push({
      path: 'spec.namespaceSelector',
      value: spec.namespaceSelector,
      message: M.tunnelNamespaceSelector,
      hint:
        spec.allowedUses && spec.allowedUses.length > 0
          ? 'remove Tunnel from allowedUses, or the namespaceSelector'
          : 'allowedUses defaults to [Workload, Tunnel]; set allowedUses: [Workload] to use a namespaceSelector',
    });
  }
  // Rules 16 and 17.
  issues.push(...checkSelector('nodeSelector', spec.nodeSelector));
  issues.push(...checkSelector('namespaceSelector', spec.namespaceSelector));
  return issues;
}

/** Same network (libcalico `cidrChangeOK`): the same text, or the same network re-written. */
function sameCidr(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = typeof a === 'string' ? tryParseCidr(a.trim()) : undefined;
  const y = typeof b === 'string' ? tryParseCidr(b.trim()) : undefined;
  return !!x && !!y && formatCidr(x) === formatCidr(y);
}

/**
 * Rule 21: cidr and (defaulted) blockSize are immutable, and a LoadBalancer pool stays one.
 * Returns every issue found.
 */
export function validateIpPoolUpdate(oldPool: IPPool, newPool: IPPool): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const before = withDefaults(oldPool).spec;
  const after = withDefaults(newPool).spec;
  const migrate = 'create a new pool, disable this one and move the workloads (pool migration)';
  if (!sameCidr(before.cidr, after.cidr)) {
    issues.push({
      path: 'spec.cidr',
      value: newPool.spec?.cidr,
      message: M.cidrImmutable,
      hint: `it is ${before.cidr}; ${migrate}`,
    });
  }
  if (before.blockSize !== after.blockSize) {
    issues.push({
      path: 'spec.blockSize',
      value: newPool.spec?.blockSize,
      message: M.blockSizeImmutable,
      hint: `it is ${before.blockSize}; ${migrate}`,
    });
  }
  const oldUses = before.allowedUses ?? [];
  const newUses = after.allowedUses ?? [];
  if (oldUses.includes('LoadBalancer') && newUses.some((u) => u !== 'LoadBalancer')) {
    issues.push({
      path: 'spec.allowedUses',
      value: newPool.spec?.allowedUses,
      message: M.loadBalancerSticky,
    });
  }
  return issues;
}
