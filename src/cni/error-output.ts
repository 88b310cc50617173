// The CNI error JSON (surfaces.md §3.3): `{"code": n, "msg": "...", "details": "..."}` on stdout.
import { isCidrpoolError } from '../errors/index.js';
import { printJson } from './result.js';

/**
 * What to do about the engine's errors a pod start meets most, when the error carries no hint
 * of its own (the engine's messages are Calico's and name no fix).
 */
const FALLBACK_HINTS: Readonly<Record<string, string>> = {
  IPAM_NODE_NOT_FOUND:
    'the node name comes from nodename, then nodename_file, then hostname, then the OS hostname: create that Node resource (`cidrpool create -f node.yaml`) or set nodename',
  IPAM_NO_QUALIFIED_POOL:
    'create an enabled IPPool of this IP family whose allowedUses include Workload (`cidrpool get ippool -o wide` lists them)',
  IPAM_NO_POOLS_FOR_NODE:
    "no enabled Automatic pool's nodeSelector (and namespaceSelector) matches: check them with `cidrpool get ippool -o wide` and the Node's labels, or request a pool with ipv4_pools / ipv6_pools",
  IPAM_POOL_NOT_FOUND:
    'a requested pool must be an existing, enabled IPPool given by its exact CIDR or name (`cidrpool get ippool -o wide`)',
  IPAM_NOT_IN_POOL:
    'the address must lie in an enabled IPPool (`cidrpool get ippool -o wide`); pick another address or add a pool',
};

/** The CNI error object for any thrown value; plugin errors, known or not, get calico-ipam's code 999. */
export function toCniError(err: unknown): { code: number; msg: string; details?: string } {
  if (isCidrpoolError(err)) {
    const hint =
      err.details.hint ??
      FALLBACK_HINTS[err.code] ??
      (err.code.startsWith('DS_') && err.spec.cniCode === 7
        ? 'check datastore_type, etcd_endpoints, etcd_*_file and data_dir in the network config'
        : undefined);
    // A delegated plugin's error keeps its own code (Calico passes IPAM errors on unchanged).
    const passedOn = err.details.cniCode;
    return {
      code: typeof passedOn === 'number' ? passedOn : err.spec.cniCode,
      msg: err.message,
      ...(typeof hint === 'string' && hint !== '' ? { details: hint } : {}),
    };
  }
  return { code: 999, msg: err instanceof Error ? err.message : String(err) };
}

/** The error text as printed (4-space indent, no trailing newline, like the Go skel). */
export function formatCniError(err: unknown): string {
  return printJson(toCniError(err));
}
