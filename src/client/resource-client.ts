// The typed resource client: defaults + validation + cross-resource rules around the revisioned
// store, with libcalico/calicoctl semantics (surfaces.md §1.5, ipam-core.md §1.3-1.4).
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { listPages, type Datastore, type Revision, type TxnOperation } from '../datastore/api.js';
import { IPAM_CONFIG_KEY, resourceKey, resourcePrefix } from '../datastore/keys.js';
import { isCidrpoolError, type FieldIssue } from '../errors/index.js';
import { encodeConfig } from '../ipam/model.js';
import type { Ipam } from '../ipam/types.js';
import {
  copyWithoutNulls,
  META_MESSAGES,
  validateResource,
  validateUpdate,
  withDefaults,
} from '../resources/index.js';
import type { IPAMConfiguration, IPPool, Resource, ResourceKind } from '../resources/types.js';
import {
  alreadyExists,
  notFound,
  resourceId,
  translateStoreError,
  updateConflict,
  validationError,
} from './client-errors.js';
import { findPoolCreateIssues } from './pool-create-rules.js';
import { decodeResource, encodeResource, formatTimestamp } from './stored-form.js';
import type { ListedResources, ResourceClient, ResourceClientEnvironment } from './types.js';

/** calicoctl apply retries an update conflict this many times (without a resourceVersion). */
const APPLY_ATTEMPTS = 5;
/** Deletes without a resourceVersion re-read and retry a conflict this many times. */
const DELETE_ATTEMPTS = 5;
const DEFAULT_POOL_DELETE_PAUSE_MS = 500;
/** A pool create that keeps losing the race to other pool creates gives up after this. */
const POOL_CREATE_ATTEMPTS = 20;
/** Rewritten by every pool create, so concurrent creates are checked against each other. */
export const POOL_CREATE_GUARD_KEY = '/cidrpool/guards/ippool-create';

const idOf = (r: Resource): string =>
  resourceId(r.kind, r.metadata?.name ?? '', r.metadata?.namespace);
const keyOf = (r: Resource): string => resourceKey(r.kind, r.metadata.name, r.metadata.namespace);

function throwIfIssues(issues: readonly FieldIssue[]): void {
  if (issues.length > 0) throw validationError(issues);
}

/** The input without nulls and without a resourceVersion. */
function withoutVersion<R extends Resource>(resource: R): R {
  const copy = copyWithoutNulls(resource);
  if (copy.metadata) delete copy.metadata.resourceVersion;
  return copy;
}

/**
 * Writes that go with a resource's own. In etcd mode Calico keeps the IPAM configuration in two
 * unlinked places (ipam-core.md §1.8): the v3 IPAMConfiguration resource and the key the allocator
 * reads. cidrpool writes both in one transaction, so an applied IPAMConfiguration takes effect.
 */
function companionWrites(resource: Resource): TxnOperation[] {
  if (resource.kind !== 'IPAMConfiguration') return [];
  const spec = (resource as IPAMConfiguration).spec;
  const config = encodeConfig({
    strictAffinity: spec.strictAffinity,
    autoAllocateBlocks: spec.autoAllocateBlocks,
    maxBlocksPerHost: spec.maxBlocksPerHost ?? 0,
    ipCooldownSeconds: spec.ipCooldownSeconds ?? 0,
    ...(spec.kubeVirtVMAddressPersistence
      ? { kubeVirtVMAddressPersistence: spec.kubeVirtVMAddressPersistence }
      : {}),
  });
  return [{ op: 'put', key: IPAM_CONFIG_KEY, value: config }];
}

/** Deletes that go with a resource's own (see companionWrites). */
const companionDeletes = (kind: ResourceKind): TxnOperation[] =>
  kind === 'IPAMConfiguration' ? [{ op: 'delete', key: IPAM_CONFIG_KEY }] : [];

class StoreResourceClient implements ResourceClient {
  constructor(
    private readonly store: Datastore,
    private readonly ipam: Ipam,
    private readonly env: Required<Pick<ResourceClientEnvironment, 'now' | 'newUid'>> & {
      readonly poolDeletePauseMs: number;
    },
  ) {}

  async create<R extends Resource>(resource: R): Promise<R> {
    const input = copyWithoutNulls(resource);
    const issues = validateResource(input);
    if (issues.length === 0 && input.metadata.resourceVersion) {
      issues.push({
        path: 'metadata.resourceVersion',
        value: input.metadata.resourceVersion,
        message: META_MESSAGES.resourceVersionOnCreate,
      });
    }
    throwIfIssues(issues);
    const defaulted = withDefaults(input);
    const value = encodeResource(defaulted, {
      uid: this.env.newUid(),
      creationTimestamp: formatTimestamp(this.env.now()),
    });
    if (defaulted.kind === 'IPPool') return (await this.createPool(defaulted, value)) as R;
    const key = keyOf(defaulted);
    try {
      const { revision } = await this.store.txn(
        [{ key, absent: true }],
        [{ op: 'put', key, value }, ...companionWrites(defaulted)],
      );
      return decodeResource({ key, value, revision }) as R;
    } catch (err) {
      if (isCidrpoolError(err, 'DS_CONFLICT')) throw alreadyExists(idOf(defaulted), err);
      throw translateStoreError(err, idOf(defaulted));
    }
  }

  /**
   * Rules 19-20 are a read before the write. libcalico lets two concurrent creates of overlapping
   * pools both pass; here every pool create also rewrites POOL_CREATE_GUARD_KEY in the same
   * transaction, conditioned on the revision read before the check, so a create that raced another
   * one re-runs its check against the winner.
   */
  private async createPool(pool: IPPool, value: string): Promise<IPPool> {
    const key = keyOf(pool);
    const id = idOf(pool);
    for (let attempt = 0; attempt < POOL_CREATE_ATTEMPTS; attempt++) {
      // Existence first, so that apply of an existing pool reaches its update path rather than
      // failing the create-only rules against itself.
      if (await this.store.get(key)) throw alreadyExists(id);
      const guard = await this.store.get(POOL_CREATE_GUARD_KEY);
      throwIfIssues(await findPoolCreateIssues(this.store, pool));
      try {
        const { revision } = await this.store.txn(
          [
            { key, absent: true },
            guard
              ? { key: POOL_CREATE_GUARD_KEY, revision: guard.revision }
              : { key: POOL_CREATE_GUARD_KEY, absent: true },
          ],
          [
            { op: 'put', key, value },
            { op: 'put', key: POOL_CREATE_GUARD_KEY, value: JSON.stringify({ lastPool: id }) },
          ],
        );
        return decodeResource({ key, value, revision }) as IPPool;
      } catch (err) {
        if (!isCidrpoolError(err, 'DS_CONFLICT')) throw translateStoreError(err, id);
      }
    }
    throw updateConflict(id, 'too many concurrent IPPool creates; try again');
  }

  async update<R extends Resource>(resource: R): Promise<R> {
    const input = copyWithoutNulls(resource);
    throwIfIssues(validateResource(input));
    const key = keyOf(input);
    const id = idOf(input);
    const current = await this.store.get(key);
    if (!current) throw notFound(id);
    const expected = input.metadata.resourceVersion;
    if (expected !== undefined && expected !== current.revision) {
      throw updateConflict(
        id,
        `resource version '${expected}' is out of date (latest: ${current.revision}). Update the resource YAML/JSON in order to make changes`,
      );
    }
    const stored = decodeResource(current);
    const defaulted = withDefaults(input);
    throwIfIssues(validateUpdate(stored, defaulted));
    // The stored identity is kept; labels, annotations and spec are replaced wholesale.
    const value = encodeResource(defaulted, {
      uid: stored.metadata.uid,
      creationTimestamp: stored.metadata.creationTimestamp,
    });
    try {
      const { revision } = await this.store.txn(
        [{ key, revision: expected ?? current.revision }],
        [{ op: 'put', key, value }, ...companionWrites(defaulted)],
      );
      return decodeResource({ key, value, revision }) as R;
    } catch (err) {
      throw translateStoreError(err, id);
    }
  }

  async apply<R extends Resource>(resource: R): Promise<R> {
    const version = resource.metadata?.resourceVersion;
    const unversioned = withoutVersion(resource);
    if (version) {
      try {
        return await this.create(unversioned);
      } catch (err) {
        if (!isCidrpoolError(err, 'CLIENT_ALREADY_EXISTS')) throw err;
      }
      return this.update(resource); // Fails with `update conflict` when the version is stale.
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
      try {
        return await this.create(unversioned);
      } catch (err) {
        if (!isCidrpoolError(err, 'CLIENT_ALREADY_EXISTS')) throw err;
      }
      try {
        return await this.update(unversioned);
      } catch (err) {
        // Conflict: changed between our read and write. Not found: deleted since the create
        // attempt; the next round creates it. calicoctl sleeps 1 s here; a re-read is enough
        // because every round works from a fresh read.
        if (!isCidrpoolError(err, 'CLIENT_CONFLICT', 'CLIENT_NOT_FOUND')) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  async get(kind: ResourceKind, name: string, namespace?: string): Promise<Resource> {
    const found = await this.find(kind, name, namespace);
    if (!found) throw notFound(resourceId(kind, name, namespace));
    return found;
  }

  async find(kind: ResourceKind, name: string, namespace?: string): Promise<Resource | undefined> {
    const kv = await this.store.get(resourceKey(kind, name, namespace));
    return kv ? decodeResource(kv) : undefined;
  }

  async list(kind: ResourceKind, namespace?: string): Promise<ListedResources> {
    const prefix = resourcePrefix(kind, namespace);
    const items: Resource[] = [];
    let revision: Revision | undefined;
    for await (const page of listPages(this.store, prefix, { limit: 1000 })) {
      revision ??= page.revision;
      items.push(...page.items.map(decodeResource));
    }
    return { items, revision: revision! };
  }

  async delete(
    kind: ResourceKind,
    name: string,
    namespace?: string,
    resourceVersion?: Revision,
  ): Promise<Resource> {
    if (kind === 'IPPool') return this.deletePool(name, resourceVersion);
    const key = resourceKey(kind, name, namespace);
    const id = resourceId(kind, name, namespace);
    let lastError: unknown;
    for (let attempt = 0; attempt < DELETE_ATTEMPTS; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(id);
      if (resourceVersion !== undefined && resourceVersion !== kv.revision)
        throw updateConflict(id);
      try {
        // CAS on the revision read, so the value returned is exactly the one deleted.
        await this.store.txn(
          [{ key, revision: kv.revision }],
          [{ op: 'delete', key }, ...companionDeletes(kind)],
        );
        return decodeResource(kv);
      } catch (err) {
        lastError = translateStoreError(err, id);
        if (resourceVersion !== undefined || !isCidrpoolError(err, 'DS_CONFLICT')) throw lastError;
      }
    }
    throw lastError;
  }

  /**
   * ipam-core.md §1.4: disable (a validated update), pause, release the pool's block affinities
   * (empty blocks are deleted; blocks with addresses become unaffine and keep them), delete.
   * Addresses in use are never released. A failure after the disable leaves the pool disabled,
   * which is safe and lets the delete be retried.
   */
  private async deletePool(name: string, resourceVersion?: Revision): Promise<Resource> {
    const key = resourceKey('IPPool', name);
    const id = resourceId('IPPool', name);
    const kv = await this.store.get(key);
    if (!kv) throw notFound(id);
    if (resourceVersion !== undefined && resourceVersion !== kv.revision) throw updateConflict(id);
    let pool = decodeResource(kv) as IPPool;
    if (pool.spec.disabled !== true) {
      pool = await this.update<IPPool>({
        ...pool,
        metadata: { ...pool.metadata, resourceVersion: kv.revision },
        spec: { ...pool.spec, disabled: true },
      });
    }
    // libcalico sleeps 500 ms here so that allocations which read the pool list before it was
    // disabled can finish before the affinities go. It narrows that race rather than closing it
    // (an allocation may take longer), so the pause is kept, and made configurable for tests.
    if (this.env.poolDeletePauseMs > 0) await delay(this.env.poolDeletePauseMs);
    await this.ipam.releasePoolAffinities(pool.spec.cidr);
    try {
      await this.store.delete(key, pool.metadata.resourceVersion);
    } catch (err) {
      throw translateStoreError(err, id);
    }
    return pool;
  }
}

/**
 * A ResourceClient over `store`; `ipam` is used to release a deleted pool's affinities. `env`
 * injects the clock, uid source and the pool-delete pause (default 500 ms). The client raises
 * CLIENT_NOT_FOUND, CLIENT_ALREADY_EXISTS, CLIENT_CONFLICT, CLIENT_VALIDATION, and passes
 * DS_UNAVAILABLE / DS_CORRUPT through.
 */
export function createResourceClient(
  store: Datastore,
  ipam: Ipam,
  env: ResourceClientEnvironment = {},
): ResourceClient {
  return new StoreResourceClient(store, ipam, {
    now: env.now ?? (() => Date.now()),
    newUid: env.newUid ?? (() => randomUUID()),
    poolDeletePauseMs: env.poolDeletePauseMs ?? DEFAULT_POOL_DELETE_PAUSE_MS,
  });
}
