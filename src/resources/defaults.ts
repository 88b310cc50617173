// Calico's client-side defaults (ipam-core.md §1.1 and §1.8, surfaces.md §1.7). They are applied
// on create, on update and on every read, as libcalico does (`convertIpPoolFromStorage`).
import { formatCidr, tryParseCidr, type IpFamily } from '../net/index.js';
import type { AllowedUse, IPAMConfiguration, IPPool, Resource } from './types.js';

export const DEFAULT_BLOCK_SIZE: Readonly<Record<IpFamily, number>> = { 4: 26, 6: 122 };
export const DEFAULT_NODE_SELECTOR = 'all()';
export const DEFAULT_ALLOWED_USES: readonly AllowedUse[] = ['Workload', 'Tunnel'];

/** A deep copy without `null` values (Go decodes `null` to the zero value, i.e. "unset"). */
export function copyWithoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => copyWithoutNulls(v)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = copyWithoutNulls(v);
    return out as T;
  }
  return value;
}

function defaultPool(pool: IPPool): void {
  const spec = pool.spec;
  // Only a strictly masked CIDR is rewritten (to its canonical text): a CIDR with host bits is
  // left as written so validation can reject it, as libcalico does, rather than mask it silently.
  const cidr = typeof spec.cidr === 'string' ? tryParseCidr(spec.cidr.trim()) : undefined;
  if (cidr) {
    spec.cidr = formatCidr(cidr);
    if (spec.blockSize === undefined || spec.blockSize === 0) {
      spec.blockSize = DEFAULT_BLOCK_SIZE[cidr.family];
    }
  }
  if (!spec.nodeSelector) spec.nodeSelector = DEFAULT_NODE_SELECTOR;
  if (!spec.allowedUses || spec.allowedUses.length === 0) {
    spec.allowedUses = [...DEFAULT_ALLOWED_USES];
  }
  if (!spec.ipipMode) spec.ipipMode = 'Never';
  if (!spec.vxlanMode) spec.vxlanMode = 'Never';
  if (!spec.assignmentMode) spec.assignmentMode = 'Automatic';
}

function defaultIpamConfiguration(config: IPAMConfiguration): void {
  if (typeof config.spec.autoAllocateBlocks !== 'boolean') config.spec.autoAllocateBlocks = true;
  if (typeof config.spec.strictAffinity !== 'boolean') config.spec.strictAffinity = false;
}

/**
 * A defaulted deep copy of `resource` (the input is not changed). IPPool: CIDR in canonical text,
 * blockSize 26/122, nodeSelector `all()`, allowedUses [Workload, Tunnel], ipipMode/vxlanMode
 * Never, assignmentMode Automatic. IPAMConfiguration: autoAllocateBlocks true, strictAffinity
 * false. Other kinds: only nulls are dropped. Never throws: values it cannot interpret (an
 * unparsable CIDR) are left for validation to report.
 */
export function withDefaults<R extends Resource>(resource: R): R {
  const out = copyWithoutNulls(resource);
  if (typeof out !== 'object' || out === null) return out;
  const mutable = out as Resource;
  if (typeof mutable.metadata !== 'object' || mutable.metadata === null) {
    (mutable as { metadata: unknown }).metadata = {};
  }
  if (typeof mutable.spec !== 'object' || mutable.spec === null || Array.isArray(mutable.spec)) {
    (mutable as { spec: unknown }).spec = {};
  }
  if (mutable.kind === 'IPPool') defaultPool(mutable);
  else if (mutable.kind === 'IPAMConfiguration') defaultIpamConfiguration(mutable);
  return out;
}
