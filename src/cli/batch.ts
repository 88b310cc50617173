// The loop shared by create, apply, replace and delete -f: read -f, act on each resource in
// order (a per-resource error does not stop the others), then print calicoctl's summary.
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import type { Resource } from '../resources/types.js';
import { withBackend, type Backend } from './backend.js';
import { errorMessage, errorDetails } from './errors.js';
import { printErrLines, printLines, writeOut } from './io.js';
import { loadResources } from './manifests.js';
import { resolveNamespace, type NamespaceFlags } from './namespaces.js';
import type { ResourceCommandOptions } from './options.js';
import type { BatchReport, Outcome } from './output/batch-messages.js';

/** Print a batch report; throw (exit 1, nothing more to print) when it failed. */
export function finishBatch(report: BatchReport, details: readonly string[] = []): void {
  printLines(report.stdout);
  printErrLines([...report.stderr, ...details]);
  if (report.failed) throw silentFailure();
}

/** An error whose text has already been printed: main() only sets the exit code. */
export function silentFailure(): CidrpoolError {
  return new CidrpoolError('CLI_RESOURCES_FAILED', '');
}

/** A copy of `resource` with its namespace set by the namespace rules (throws per resource). */
export function withNamespace(resource: Resource, flags: NamespaceFlags): Resource {
  const namespace = resolveNamespace(resource.kind, flags, resource.metadata?.namespace);
  const copy = structuredClone(resource);
  if (!copy.metadata) (copy as { metadata: unknown }).metadata = {};
  if (namespace === undefined) delete copy.metadata.namespace;
  else copy.metadata.namespace = namespace;
  return copy;
}

/**
 * Read -f, apply `act` to each resource, and return the outcomes plus the issue lines of failed
 * resources. Returns undefined when -f held nothing and --skip-empty was given (after printing
 * "No resources specified").
 */
export async function runOnFile(
  options: ResourceCommandOptions & { readonly filename: string },
  act: (backend: Backend, resource: Resource) => Promise<void>,
): Promise<{ outcomes: Outcome[]; details: string[] } | undefined> {
  const { resources } = await loadResources(options.filename, options);
  if (resources.length === 0) {
    writeOut('No resources specified\n');
    return undefined;
  }
  return withBackend(options, async (backend) => {
    const outcomes: Outcome[] = [];
    const details: string[] = [];
    for (const resource of resources) {
      try {
        await act(backend, withNamespace(resource, options));
        outcomes.push({ kind: resource.kind });
      } catch (err) {
        if (isUnavailable(err)) throw err;
        outcomes.push({ kind: resource.kind, error: errorMessage(err) });
        const lines = errorDetails(err);
        if (lines.length > 0) details.push(`${describeResource(resource)}:`, ...lines);
      }
    }
    return { outcomes, details };
  });
}

/** `Kind(namespace/name)`, the heading of a resource's issue lines. */
export const describeResource = (r: Resource): string =>
  `${r.kind}(${r.metadata?.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata?.name ?? ''})`;

/** A datastore that cannot be reached fails every resource the same way: stop at the first. */
export const isUnavailable = (err: unknown): boolean => isCidrpoolError(err, 'DS_UNAVAILABLE');
