// Object metadata rules shared by every kind (libcalico `validateObjectMeta`, ipam-core.md §1.1).
import type { FieldIssue } from '../../errors/index.js';
import { META_MESSAGES } from '../messages.js';
import { KINDS, type ObjectMeta, type ResourceKind } from '../types.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** True for a DNS-1123 subdomain of at most 253 characters (resource names). */
export const isDns1123Subdomain = (text: string): boolean =>
  text.length <= 253 && DNS1123_SUBDOMAIN.test(text);

/** True for a DNS-1123 label of at most 63 characters (namespaces). */
export const isDns1123Label = (text: string): boolean =>
  text.length <= 63 && DNS1123_LABEL.test(text);

/** A Kubernetes qualified name: `[prefix/]name`, used for label and annotation keys. */
export function isQualifiedName(text: string): boolean {
  const slash = text.indexOf('/');
  const name = slash < 0 ? text : text.slice(slash + 1);
  if (slash >= 0) {
    const prefix = text.slice(0, slash);
    if (prefix === '' || !isDns1123Subdomain(prefix)) return false;
  }
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

/** A Kubernetes label value: empty, or a qualified-name part of at most 63 characters. */
export const isLabelValue = (text: string): boolean =>
  text === '' || (text.length <= 63 && QUALIFIED_NAME_PART.test(text));

/** Name, namespace (per kind), label and annotation rules. */
export function validateMetadata(kind: ResourceKind, meta: ObjectMeta | undefined): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const name = meta?.name;
  if (name === undefined || name === '') {
    issues.push({ path: 'metadata.name', value: name, message: META_MESSAGES.nameRequired });
  } else if (name.length > 253) {
    issues.push({ path: 'metadata.name', value: name, message: META_MESSAGES.nameTooLong });
  } else if (!DNS1123_SUBDOMAIN.test(name)) {
    const lower = name.toLowerCase().replace(/[^-a-z0-9.]/g, '-');
    issues.push({
      path: 'metadata.name',
      value: name,
      message: META_MESSAGES.nameDns1123,
      hint: isDns1123Subdomain(lower) ? `e.g. "${lower}"` : undefined,
    });
  }
  const namespace = meta?.namespace;
  if (namespace !== undefined && namespace !== '') {
    if (!KINDS[kind].namespaced) {
      issues.push({
        path: 'metadata.namespace',
        value: namespace,
        message: META_MESSAGES.namespaceNotAllowed(kind),
      });
    } else if (!isDns1123Label(namespace)) {
      issues.push({
        path: 'metadata.namespace',
        value: namespace,
        message: META_MESSAGES.namespaceDns1123,
      });
    }
  }
  for (const [key, value] of Object.entries(meta?.labels ?? {})) {
    if (!isQualifiedName(key)) {
      issues.push({
        path: `metadata.labels[${JSON.stringify(key)}]`,
        value: key,
        message: META_MESSAGES.qualifiedName,
      });
    }
    if (typeof value === 'string' && !isLabelValue(value)) {
      issues.push({
        path: `metadata.labels[${JSON.stringify(key)}]`,
        value,
        message: META_MESSAGES.labelValue,
      });
    }
  }
  let bytes = 0;
  for (const [key, value] of Object.entries(meta?.annotations ?? {})) {
    if (!isQualifiedName(key)) {
      issues.push({
        path: `metadata.annotations[${JSON.stringify(key)}]`,
        value: key,
        message: META_MESSAGES.qualifiedName,
      });
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    issues.push({
      path: 'metadata.annotations',
      value: `${bytes} bytes`,
      message: META_MESSAGES.annotationsTooLarge,
    });
  }
  return issues;
}
