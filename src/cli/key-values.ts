// `K=V` flags of `ipam assign` (--pod-annotation, --namespace-annotation, --namespace-label).
import { CidrpoolError } from '../errors/index.js';

/** Parse repeated `K=V` flags into a map; throws CLI_USAGE for an entry without `=`. */
export function parseKeyValues(entries: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0)
      throw new CidrpoolError('CLI_USAGE', `invalid ${flag} ${entry}: expected KEY=VALUE`);
    out[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return out;
}
