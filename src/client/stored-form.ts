// The JSON a resource is stored as (Calico's: kind, apiVersion, metadata, spec; no
// resourceVersion, which is the datastore revision and is filled in on read).
import { CidrpoolError } from '../errors/index.js';
import { formatTime } from '../ipam/block.js';
import type { KeyValue } from '../datastore/api.js';
import { canonicalizeResource, withDefaults } from '../resources/index.js';
import { KINDS, type ObjectMeta, type Resource } from '../resources/types.js';

/** The stored text of `resource` (already defaulted and validated) with the given identity. */
export function encodeResource(
  resource: Resource,
  identity: { uid?: string; creationTimestamp?: string | null },
): string {
  const meta = resource.metadata;
  const metadata: ObjectMeta = {
    name: meta.name,
    namespace: KINDS[resource.kind].namespaced ? meta.namespace || 'default' : undefined,
    uid: identity.uid,
    generation: meta.generation,
    creationTimestamp: identity.creationTimestamp,
    labels: meta.labels && Object.keys(meta.labels).length > 0 ? meta.labels : undefined,
    annotations:
      meta.annotations && Object.keys(meta.annotations).length > 0 ? meta.annotations : undefined,
  };
  const stored = { ...resource, metadata } as Resource;
  return JSON.stringify(canonicalizeResource(stored));
}

/** The resource held by `kv`, defaulted (as libcalico does on read), with its resourceVersion. */
export function decodeResource(kv: KeyValue): Resource {
  let parsed: Resource;
  try {
    parsed = JSON.parse(kv.value) as Resource;
  } catch (err) {
    throw new CidrpoolError('DS_CORRUPT', `stored resource is not valid JSON: ${kv.key}`, {
      cause: err,
      details: { key: kv.key },
    });
  }
  const resource = withDefaults(parsed);
  resource.metadata = { ...resource.metadata, resourceVersion: kv.revision };
  return canonicalizeResource(resource);
}

/** RFC 3339 at second precision, like Go's metav1.Time (the allocator's formatter). */
export const formatTimestamp = formatTime;
