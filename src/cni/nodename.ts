// Which node this call is for (Calico's DetermineNodename, cni-plugin/internal/pkg/utils).
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { NetConf } from './config.js';

/**
 * The node name, in Calico's order: `nodename`, then the trimmed contents of `nodename_file`
 * (default /var/lib/calico/nodename; a missing file is skipped), then the deprecated `hostname`,
 * then the OS hostname.
 */
export function resolveNodeName(conf: NetConf): string {
  if (conf.nodename) return conf.nodename;
  try {
    const fromFile = readFileSync(conf.nodenameFile, 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // Calico falls through to the hostname when the file is absent (calico/node not yet run).
  }
  if (conf.hostname) return conf.hostname;
  return osHostname().toLowerCase();
}
