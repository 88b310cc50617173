// The CNI error JSON (surfaces.md §3.3): `{"code": n, "msg": "...", "details": "..."}` on stdout.
import { isCidrpoolError } from '../errors/index.js';
import { printJson } from './result.js';

/** The CNI error object for any thrown value; unknown errors get Calico's plugin code 999. */
export function toCniError(err: unknown): { code: number; msg: string; details?: string } {
  if (isCidrpoolError(err)) {
    const hint =
      err.details.hint ??
      (err.code.startsWith('DS_') && err.spec.cniCode === 7
        ? 'check datastore_type, etcd_endpoints, etcd_*_file and data_dir in the network config'
        : undefined);
    return {
      code: err.spec.cniCode,
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
