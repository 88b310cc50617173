// Namespace rules of every resource command (surfaces.md §1.4), checked per resource so that a
// violation is that resource's error, not the command's.
import { CidrpoolError } from '../errors/index.js';
import { META_MESSAGES } from '../resources/messages.js';
import { KINDS, type ResourceKind } from '../resources/types.js';

export interface NamespaceFlags {
  /** -n/--namespace */
  readonly namespace?: string;
  /** -A/--all-namespaces */
  readonly allNamespaces?: boolean;
}

const fail = (message: string): never => {
  throw new CidrpoolError('CLI_NAMESPACE', message);
};

/**
 * The namespace to use for one resource of `kind` whose metadata says `resourceNamespace`:
 * undefined for non-namespaced kinds, and for namespaced kinds with -A (all namespaces).
 */
export function resolveNamespace(
  kind: ResourceKind,
  flags: NamespaceFlags,
  resourceNamespace?: string,
): string | undefined {
  const given = flags.namespace !== undefined && flags.namespace !== '';
  if (!KINDS[kind].namespaced) {
    if (resourceNamespace) fail(META_MESSAGES.namespaceNotAllowed(kind));
    if (given || flags.allNamespaces) fail(`${kind} is not namespaced`);
    return undefined;
  }
  if (given && flags.allNamespaces) {
    fail('cannot use both --namespace and --all-namespaces flags at the same time');
  }
  if (flags.allNamespaces) return resourceNamespace || undefined;
  if (resourceNamespace && given && resourceNamespace !== flags.namespace) {
    fail(
      `resource namespace does not match client namespace. ${resourceNamespace} != ${flags.namespace}`,
    );
  }
  return resourceNamespace || (given ? flags.namespace : 'default');
}
