// The VTEP MAC of a node (felix/calc/vxlan_resolver.go `vtepMACForHost`, spec §2): the Node's
// override when set, else 0x66 followed by the first five bytes of SHA-1 of the node name
// (`<name>-v6` for IPv6). Locally administered and unicast.
import { createHash } from 'node:crypto';
import type { IpFamily } from '../net/index.js';

/** The MAC (lower-case, colon-separated) of `nodeName`'s VTEP for `family`. */
export function vtepMac(nodeName: string, family: IpFamily, override?: string): string {
  if (override) return override.toLowerCase();
  const digest = createHash('sha1')
    .update(family === 4 ? nodeName : `${nodeName}-v6`)
    .digest();
  const bytes = [0x66, ...digest.subarray(0, 5)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
