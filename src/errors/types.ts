/** What kind of failure a code is; decides exit codes, CNI codes and whether a retry may help. */
export type ErrorCategory =
  'validation' | 'not-found' | 'conflict' | 'unavailable' | 'exhausted' | 'internal' | 'usage';

/** One entry of the error registry. */
export interface ErrorSpec {
  readonly category: ErrorCategory;
  /** A retry of the same operation may succeed (CAS conflicts, an unreachable datastore). */
  readonly retryable: boolean;
  /** Exit code of the `cidrpool` CLI (calicoctl uses 1 for every error). */
  readonly exitCode: number;
  /** CNI error code: 7 invalid config, 11 try again later, 999 (calico-ipam's) for the rest. */
  readonly cniCode: number;
  /** One line for docs/errors.md: when the code is raised. */
  readonly summary: string;
}

/** A problem with one field of a resource or a config: where, what value, and how to fix it. */
export interface FieldIssue {
  /** Path from the document root, e.g. `spec.cidr` or `spec.allowedUses[1]`. */
  readonly path: string;
  /** The offending value as the user wrote it (undefined when the field is missing). */
  readonly value?: unknown;
  /** What is wrong, in Calico's words where Calico has words for it. */
  readonly message: string;
  /** How to fix it, when one can be computed (e.g. the masked network of a CIDR). */
  readonly hint?: string;
}

/** A position in a source text (1-based line and column). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}
