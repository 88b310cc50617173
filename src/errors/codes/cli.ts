import type { ErrorSpec } from '../types.js';

// The CLI exits 1 for every error, like calicoctl (surfaces.md §1.1). CLI errors never reach the
// CNI plugin; their CNI code is the generic plugin error 999.
const cli = (category: ErrorSpec['category'], summary: string): ErrorSpec => ({
  category,
  retryable: false,
  exitCode: 1,
  cniCode: 999,
  summary,
});

/** Error codes raised by src/cli. Every code starts with CLI_. */
export const CLI_CODES = {
  CLI_USAGE: cli('usage', 'A command line argument or flag value is missing or malformed.'),
  CLI_UNSUPPORTED_KIND: cli(
    'usage',
    "A resource type on the command line is not one cidrpool knows ('resource type ... is not supported').",
  ),
  CLI_OUTPUT_FORMAT: cli(
    'usage',
    'The -o value is not one of ps, wide, yaml, json, custom-columns=...',
  ),
  CLI_NAMESPACE: cli(
    'usage',
    'The -n/-A flags or metadata.namespace break the namespace rules (surfaces.md §1.4).',
  ),
  CLI_NO_RESOURCES: cli(
    'validation',
    'A -f file or directory holds no resources (use --skip-empty to accept that).',
  ),
  CLI_INVALID_IP: cli('usage', 'An --ip value is not an IP address.'),
  CLI_NOT_ASSIGNED: cli('not-found', 'ipam release --ip: the address is not assigned.'),
  CLI_RESOURCES_FAILED: cli(
    'validation',
    'Some or all resources of a create/apply/replace/delete/patch/label/validate command failed.',
  ),
  CLI_REPORT: cli(
    'validation',
    'An ipam check report cannot be used: other cluster, other version, stale, or unreadable.',
  ),
  CLI_NOT_LOCKED: cli(
    'conflict',
    'The datastore must be locked (`cidrpool datastore migrate lock`) first.',
  ),
  CLI_IPAM_FAILED: cli(
    'exhausted',
    'ipam assign could not assign every requested address (nothing is kept).',
  ),
} as const satisfies Record<string, ErrorSpec>;
