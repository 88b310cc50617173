// Calico's MTU file: calico/node writes the MTU pods should use (the smallest MTU of the enabled
// tunnel devices, else the host MTU) for the CNI plugin, which sizes veths from it when its
// network config has no `mtu` (felix int_dataplane.go `writeMTUFile`; docs/pod-plugin.md).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeConfigAtomically } from './bird.js';

/** Where calico/node writes it, and where the pod plugin reads it by default. */
export const CALICO_MTU_FILE = '/var/lib/calico/mtu';

/**
 * Write `mtu` to `path` as Calico does (the number, no newline), atomically: a reader sees the
 * old or the new number, never a partial file. Returns whether the file changed. Throws the
 * file system's error.
 */
export async function writeMtuFile(path: string, mtu: number): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true });
  return writeConfigAtomically(path, String(mtu));
}
