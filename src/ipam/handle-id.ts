// Handle IDs become datastore keys (`/calico/ipam/v2/handle/<id>`) and, in Calico's Kubernetes
// datastore, the lower-cased name of an IPAMHandle resource. Calico's etcd key refuses only an
// empty ID (ErrorInsufficientIdentifiers) and parses keys back with `handle/([^/]+)$`, so a `/`
// never round-trips; the Kubernetes name must be a DNS subdomain of at most 253 characters.
// cidrpool accepts what both take, plus `_` (CNI container IDs may hold it).
import { CidrpoolError, quoteBounded } from '../errors/index.js';

/** The longest handle ID: a Kubernetes resource name (and Calico's LoadBalancer handles' cap). */
export const MAX_HANDLE_ID_LENGTH = 253;

const HANDLE_ID = /^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*[A-Za-z0-9]$|^[A-Za-z0-9]$/;

/**
 * Check a handle ID before anything is stored under it. Throws IPAM_INVALID_HANDLE naming the
 * value (bounded) and the rule.
 */
export function validateHandleId(handleId: string): void {
  if (handleId.length > 0 && handleId.length <= MAX_HANDLE_ID_LENGTH && HANDLE_ID.test(handleId))
    return;
  const why =
    handleId.length === 0
      ? 'is empty'
      : handleId.length > MAX_HANDLE_ID_LENGTH
        ? `is ${handleId.length} characters long`
        : 'has a character or a sequence a handle may not hold';
  throw new CidrpoolError(
    'IPAM_INVALID_HANDLE',
    `invalid handle ID ${quoteBounded(handleId)}: it ${why}; a handle ID is 1 to ${MAX_HANDLE_ID_LENGTH} letters, digits, '-', '_' and '.', starts and ends with a letter or digit and has no '..' (e.g. k8s-pod-network.<container ID>)`,
    { details: { handleId: handleId.slice(0, 300) } },
  );
}
