// `<KIND>` on the command line: lower-cased and looked up in the alias table (surfaces.md §1.2).
import { CidrpoolError } from '../errors/index.js';
import { KINDS, type ResourceKind } from '../resources/types.js';

const ALIASES: ReadonlyMap<string, ResourceKind> = new Map(
  Object.values(KINDS).flatMap((info) => info.aliases.map((alias) => [alias, info.kind] as const)),
);

/** The kind an alias names (any case); throws CLI_UNSUPPORTED_KIND with calicoctl's wording. */
export function resolveKind(typed: string): ResourceKind {
  const kind = ALIASES.get(typed.toLowerCase());
  if (!kind)
    throw new CidrpoolError('CLI_UNSUPPORTED_KIND', `resource type '${typed}' is not supported`);
  return kind;
}

/** The lower-case kind names listed in help texts. */
export const supportedKindNames = (): string[] =>
  Object.keys(KINDS)
    .map((k) => k.toLowerCase())
    .sort();
