// The result messages of create / apply / replace / delete / validate (surfaces.md §1.5),
// including calicoctl's partial-success rules and its Go-slice rendering of error lists.

/** What happened to one resource of a -f batch. */
export interface Outcome {
  readonly kind: string;
  /** Undefined on success. */
  readonly error?: string;
}

/** What a batch command prints: stdout lines, stderr lines, and whether it failed. */
export interface BatchReport {
  readonly stdout: string[];
  readonly stderr: string[];
  readonly failed: boolean;
}

export interface Verb {
  /** `create` */
  readonly present: string;
  /** `created` */
  readonly past: string;
}

/** ` '<Kind>'` when every resource is of one kind; empty for a mixed batch. */
function quotedKind(outcomes: readonly Outcome[]): string {
  const kinds = new Set(outcomes.map((o) => o.kind));
  const [kind] = kinds;
  return kinds.size === 1 && kind ? ` '${kind}'` : '';
}

/** Go prints an error slice as `[e1 e2]`. */
export const goSlice = (errors: readonly string[]): string => `[${errors.join(' ')}]`;

/**
 * create, apply and validate: every resource is attempted; messages depend on how many failed.
 * `errorPrefix` is `hit error` (create) or `hit error(s)` (apply and validate in v3.32.1).
 */
export function reportBatch(
  verb: Verb,
  outcomes: readonly Outcome[],
  errorPrefix: 'hit error' | 'hit error(s)',
): BatchReport {
  const quoted = quotedKind(outcomes);
  const errors = outcomes.filter((o) => o.error !== undefined).map((o) => o.error!);
  const ok = outcomes.length - errors.length;
  if (errors.length === 0) {
    return {
      stdout: [`Successfully ${verb.past} ${ok}${quoted} resource(s)`],
      stderr: [],
      failed: false,
    };
  }
  if (ok === 0) {
    const what = outcomes.length === 1 ? `${quoted} resource` : ` any${quoted} resources`;
    return {
      stdout: [],
      stderr: [`failed to ${verb.present}${what}: ${goSlice(errors)}`],
      failed: true,
    };
  }
  // calicoctl prints the partial-success line only when successes outnumber failures.
  const stdout =
    ok > errors.length
      ? [
          `Partial success: ${verb.past} the first ${ok} out of ${outcomes.length}${quoted} resources:`,
        ]
      : [];
  return { stdout, stderr: [`${errorPrefix}: ${goSlice(errors)}`], failed: true };
}

/**
 * replace: calicoctl keeps only the last error and counts failed resources as handled, so any
 * failure reports "the first N out of N" (surfaces.md §1.5, kept for compatibility).
 */
export function reportReplace(outcomes: readonly Outcome[]): BatchReport {
  const quoted = quotedKind(outcomes);
  const errors = outcomes.filter((o) => o.error !== undefined).map((o) => o.error!);
  const n = outcomes.length;
  if (errors.length === 0) {
    return {
      stdout: [`Successfully replaced ${n}${quoted} resource(s)`],
      stderr: [],
      failed: false,
    };
  }
  return {
    stdout: [`Partial success: replaced the first ${n} out of ${n}${quoted} resources:`],
    stderr: [`hit error: ${errors[errors.length - 1]}`],
    failed: true,
  };
}

/**
 * delete: the count of deleted resources, then one stderr line per failure and one blank line
 * after them all (calicoctl joins the lines, each ending in a newline, into one error that its
 * main prints with another). A mixed batch names no kind: `Failed to delete resource: <err>`.
 */
export function reportDelete(outcomes: readonly Outcome[]): BatchReport {
  const quoted = quotedKind(outcomes);
  const failures = outcomes.filter((o) => o.error !== undefined);
  const ok = outcomes.length - failures.length;
  const stdout = ok > 0 ? [`Successfully deleted ${ok}${quoted} resource(s)`] : [];
  const stderr = failures.map((f) => `Failed to delete${quoted} resource: ${f.error}`);
  if (stderr.length > 0) stderr.push('');
  return { stdout, stderr, failed: failures.length > 0 };
}
