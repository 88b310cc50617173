// Validation of one resource (no datastore): structure, metadata and the kind's field rules.
import { CidrpoolError, MAX_ECHO, type FieldIssue } from '../errors/index.js';
import { checkShape, isPlainObject } from './schema/shape.js';
import { shapeOfKind } from './schema/kinds.js';
import { API_VERSION_V3, KINDS, type Resource, type ResourceKind } from './types.js';
import { validateMetadata } from './validation/metadata.js';
import { validateIpPoolSpec, validateIpPoolUpdate } from './validation/ip-pool.js';
import {
  validateIpamConfigurationSpec,
  validateIpReservationSpec,
  validateNodeSpec,
  validateWorkloadEndpointSpec,
} from './validation/other-kinds.js';
import { validateBgpConfigurationSpec, validateBgpPeerSpec } from './validation/bgp.js';
import { validateFelixConfigurationSpec } from './validation/felix.js';

/** True when `kind` names one of the v3 kinds cidrpool stores. */
export const isResourceKind = (kind: unknown): kind is ResourceKind =>
  typeof kind === 'string' && Object.hasOwn(KINDS, kind);

/**
 * `unknown resource type (<kind>) and/or version (<apiVersion>)`, calicoctl's words, then which
 * of the two is missing when one is (calicoctl leaves the reader to spot the empty brackets).
 */
export function unknownTypeMessage(kind: unknown, apiVersion: unknown): string {
  const clip = (v: unknown) => {
    const t = String(v ?? '');
    return t.length > MAX_ECHO ? `${t.slice(0, MAX_ECHO)}...` : t;
  };
  const text = `unknown resource type (${clip(kind)}) and/or version (${clip(apiVersion)})`;
  const missing = [
    kind === undefined || kind === null || kind === '' ? 'kind' : undefined,
    apiVersion === undefined || apiVersion === null || apiVersion === '' ? 'apiVersion' : undefined,
  ].filter((f) => f !== undefined);
  if (missing.length === 0) return text;
  return `${text}: the document has no ${missing.join(' and no ')} (e.g. apiVersion: ${API_VERSION_V3}, kind: IPPool)`;
}

/**
 * Every problem of `resource` that can be found without a datastore: kind/apiVersion, structure
 * (types, enums, unknown fields), metadata (name, namespace, labels, annotations) and the kind's
 * rules (IPPool: ipam-core.md §1.3 rules 1-18). Returns all issues; empty when valid. When the
 * structure is wrong only the structural issues are returned, since the rules need the types.
 */
export function validateResource(resource: Resource): FieldIssue[] {
  const value: unknown = resource;
  if (!isPlainObject(value)) return [{ path: '', value, message: 'a resource must be an object' }];
  const { kind, apiVersion } = value;
  if (!isResourceKind(kind) || apiVersion !== API_VERSION_V3) {
    return [{ path: 'kind', value: kind, message: unknownTypeMessage(kind, apiVersion) }];
  }
  const structural = checkShape(value, shapeOfKind(kind)).map(
    ({ path, value: v, message, hint }): FieldIssue => ({ path, value: v, message, hint }),
  );
  if (structural.length > 0) return structural;
  const issues = validateMetadata(kind, resource.metadata);
  switch (resource.kind) {
    case 'IPPool':
      issues.push(...validateIpPoolSpec(resource));
      break;
    case 'IPReservation':
      issues.push(...validateIpReservationSpec(resource));
      break;
    case 'IPAMConfiguration':
      issues.push(...validateIpamConfigurationSpec(resource));
      break;
    case 'Node':
      issues.push(...validateNodeSpec(resource));
      break;
    case 'WorkloadEndpoint':
      issues.push(...validateWorkloadEndpointSpec(resource));
      break;
    case 'BGPConfiguration':
      issues.push(...validateBgpConfigurationSpec(resource));
      break;
    case 'BGPPeer':
      issues.push(...validateBgpPeerSpec(resource));
      break;
    case 'FelixConfiguration':
      issues.push(...validateFelixConfigurationSpec(resource));
      break;
  }
  return issues;
}

/**
 * Rules that compare the stored resource with its replacement (IPPool rule 21: cidr and blockSize
 * immutable, LoadBalancer stays LoadBalancer). Returns all issues; empty when the change is allowed.
 */
export function validateUpdate(oldResource: Resource, newResource: Resource): FieldIssue[] {
  if (oldResource.kind === 'IPPool' && newResource.kind === 'IPPool') {
    return validateIpPoolUpdate(oldResource, newResource);
  }
  return [];
}

const showValue = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value);

/** One issue in libcalico's words: `<path> = '<value>' (<message>[; <hint>])`. */
export function formatIssueCalicoStyle(issue: FieldIssue): string {
  const value = issue.value === undefined ? '' : ` = '${showValue(issue.value)}'`;
  const hint = issue.hint ? `; ${issue.hint}` : '';
  return `${issue.path}${value} (${issue.message}${hint})`;
}

/**
 * libcalico's validation text: `error with field <f> = '<v>' (<reason>)`, or for several issues
 * `error with the following fields:` and one `-  <f> = '<v>' (<reason>)` line each.
 */
export function formatValidationMessage(issues: readonly FieldIssue[]): string {
  if (issues.length === 1) return `error with field ${formatIssueCalicoStyle(issues[0]!)}`;
  return `error with the following fields:\n${issues.map((i) => `-  ${formatIssueCalicoStyle(i)}\n`).join('')}`;
}

/** Throws RES_INVALID (issues[] holds every issue) unless `validateResource` finds nothing. */
export function assertValidResource(resource: Resource): void {
  const issues = validateResource(resource);
  if (issues.length > 0) {
    throw new CidrpoolError('RES_INVALID', formatValidationMessage(issues), { issues });
  }
}
