import { ERROR_CODES, type ErrorCode } from './registry.js';
import type { ErrorSpec, FieldIssue, SourcePosition } from './types.js';

export interface CidrpoolErrorOptions {
  /** Every issue found, for validation errors (validators collect, they do not stop at the first). */
  readonly issues?: readonly FieldIssue[];
  /** Where in a source text the problem is (selectors, manifests). */
  readonly position?: SourcePosition;
  /** A caret excerpt of the source text, ready to print under the message. */
  readonly excerpt?: string;
  /** Structured context, e.g. `{ key }` for a datastore conflict. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/** The single error class of cidrpool: a registered code plus a message meant for a person. */
export class CidrpoolError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly FieldIssue[];
  readonly position?: SourcePosition;
  readonly excerpt?: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: CidrpoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CidrpoolError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.position = options.position;
    this.excerpt = options.excerpt;
    this.details = options.details ?? {};
  }

  get spec(): ErrorSpec {
    return ERROR_CODES[this.code];
  }

  get retryable(): boolean {
    return this.spec.retryable;
  }
}

/** True when `err` is a CidrpoolError, optionally with one of the given codes. */
export function isCidrpoolError(err: unknown, ...codes: ErrorCode[]): err is CidrpoolError {
  return err instanceof CidrpoolError && (codes.length === 0 || codes.includes(err.code));
}

/** True when a retry of the failed operation may succeed. */
export function isRetryable(err: unknown): boolean {
  return err instanceof CidrpoolError && err.retryable;
}
