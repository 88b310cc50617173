// -f FILE|DIR|- for the resource commands (surfaces.md §1.3): everything is parsed before
// anything is acted on; v1 `ipPool` documents arrive already converted to v3 IPPools.
import { CidrpoolError } from '../errors/index.js';
import {
  readManifestSource,
  type ManifestResource,
  type ManifestSource,
  type Resource,
} from '../resources/index.js';
import { errorMessage } from './errors.js';

/** Resources read from -f, in file and document order. */
export interface LoadedResources {
  readonly resources: Resource[];
  readonly entries: readonly ManifestResource[];
  readonly source: ManifestSource;
}

/**
 * The reader's message without its ` (file:line:column)` suffix, plus that place. calicoctl's
 * line is exactly `failed to execute command: <err>` (and an unknown field replaces the whole
 * message, surfaces.md §1.1), so the place goes on the next line, above the caret excerpt.
 */
function splitPlace(err: unknown): { message: string; place?: string } {
  const message = errorMessage(err);
  if (!(err instanceof CidrpoolError) || !err.position) return { message };
  const source = err.details.source;
  const place = `${typeof source === 'string' ? source : ''}:${err.position.line}:${err.position.column}`;
  const suffix = ` (${place})`;
  if (!message.endsWith(suffix)) return { message };
  return { message: message.slice(0, -suffix.length), place };
}

/** Wrap a reader error as calicoctl does: `failed to execute command: <err>`. */
export function wrapReadError(err: unknown): CidrpoolError {
  const { message, place } = splitPlace(err);
  const excerpt = err instanceof CidrpoolError ? err.excerpt : undefined;
  return new CidrpoolError('CLI_USAGE', `failed to execute command: ${message}`, {
    cause: err,
    issues: err instanceof CidrpoolError ? err.issues : undefined,
    excerpt: place ? [`at ${place}`, ...(excerpt ? [excerpt] : [])].join('\n') : excerpt,
  });
}

/** Read the whole -f source (stdin, file or directory). */
export async function readSource(filename: string, recursive: boolean): Promise<ManifestSource> {
  try {
    return await readManifestSource(filename, { recursive });
  } catch (err) {
    throw wrapReadError(err);
  }
}

/**
 * Read every resource of -f. Parse errors abort with `failed to execute command: <err>`. An empty
 * source fails with `no resources specified in file|directory <path>` unless `skipEmpty`, when
 * an empty list is returned (the caller prints "No resources specified").
 */
export async function loadResources(
  filename: string,
  options: { readonly recursive?: boolean; readonly skipEmpty?: boolean },
): Promise<LoadedResources> {
  const source = await readSource(filename, options.recursive ?? false);
  const resources = source.resources.map((entry) => entry.resource);
  if (resources.length === 0 && !options.skipEmpty) {
    const what = source.type === 'directory' ? 'directory' : 'file';
    throw new CidrpoolError('CLI_NO_RESOURCES', `no resources specified in ${what} ${filename}`);
  }
  return { resources, entries: source.resources, source };
}
