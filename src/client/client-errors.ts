// The client's errors in calicoctl's words (surfaces.md §1.5), and the one place where datastore
// codes are translated into client codes.
import { CidrpoolError, isCidrpoolError, type FieldIssue } from '../errors/index.js';
import { formatValidationMessage } from '../resources/index.js';
import { KINDS, type ResourceKind } from '../resources/types.js';

/** `IPPool(p1)`, or `WorkloadEndpoint(ns/name)` for namespaced kinds. */
export function resourceId(kind: ResourceKind, name: string, namespace?: string): string {
  return KINDS[kind].namespaced ? `${kind}(${namespace || 'default'}/${name})` : `${kind}(${name})`;
}

export const notFound = (id: string, cause?: unknown): CidrpoolError =>
  new CidrpoolError('CLIENT_NOT_FOUND', `resource does not exist: ${id}`, {
    cause,
    details: { id },
  });

export const alreadyExists = (id: string, cause?: unknown): CidrpoolError =>
  new CidrpoolError('CLIENT_ALREADY_EXISTS', `resource already exists: ${id}`, {
    cause,
    details: { id },
  });

export const updateConflict = (id: string, reason?: string, cause?: unknown): CidrpoolError =>
  new CidrpoolError('CLIENT_CONFLICT', `update conflict: ${id}`, {
    cause: cause ?? (reason ? new Error(reason) : undefined),
    details: reason ? { id, reason } : { id },
  });

/** CLIENT_VALIDATION with libcalico's `error with field ...` text and every issue. */
export const validationError = (issues: readonly FieldIssue[]): CidrpoolError =>
  new CidrpoolError('CLIENT_VALIDATION', formatValidationMessage(issues), { issues });

/** Translate DS_ALREADY_EXISTS / DS_NOT_FOUND / DS_CONFLICT for `id`; other errors pass through. */
export function translateStoreError(err: unknown, id: string): unknown {
  if (isCidrpoolError(err, 'DS_ALREADY_EXISTS')) return alreadyExists(id, err);
  if (isCidrpoolError(err, 'DS_NOT_FOUND')) return notFound(id, err);
  if (isCidrpoolError(err, 'DS_CONFLICT')) return updateConflict(id, undefined, err);
  return err;
}
