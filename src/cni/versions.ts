// Which CNI spec versions the plugin speaks, and how they compare.
import { CidrpoolError } from '../errors/index.js';

/** Every cniVersion the plugin accepts in a network config (oldest first). */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** The newest version: what VERSION reports as its own. */
export const CURRENT_VERSION = '1.1.0';

/** Compare two `x.y.z` versions numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Throws CNI_INCOMPATIBLE_VERSION unless `version` is supported, worded as the Go skel does:
 * msg `incompatible CNI versions`, details `config is "x", plugin supports ["0.1.0" ...]`.
 */
export function checkVersion(version: string): void {
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new CidrpoolError('CNI_INCOMPATIBLE_VERSION', 'incompatible CNI versions', {
      details: {
        hint: `config is "${version}", plugin supports [${SUPPORTED_VERSIONS.map((v) => `"${v}"`).join(' ')}]`,
      },
    });
  }
}

/**
 * Throws CNI_INCOMPATIBLE_VERSION when `command` did not exist in `version`: CHECK came with
 * 0.4.0, STATUS and GC with 1.1.0 (the Go skel's wording).
 */
export function checkCommandAllowed(command: string, version: string): void {
  const since =
    command === 'CHECK' ? '0.4.0' : command === 'STATUS' || command === 'GC' ? '1.1.0' : undefined;
  if (since && compareVersions(version, since) < 0) {
    throw new CidrpoolError(
      'CNI_INCOMPATIBLE_VERSION',
      `config version does not allow ${command}`,
      { details: { hint: `${command} needs cniVersion ${since} or newer` } },
    );
  }
}

/** The VERSION command's answer (compact, with a newline, like the Go skel). */
export function formatVersionInfo(): string {
  return `${JSON.stringify({ cniVersion: CURRENT_VERSION, supportedVersions: SUPPORTED_VERSIONS })}\n`;
}
