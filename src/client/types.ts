// The typed resource client: CRUD with defaults, validation and the cross-resource rules.
// CONTRACT used by cli/ and cni/; created by `createResourceClient(store, ipam, env)` in
// src/client/index.ts.
import type { Revision } from '../datastore/api.js';
import type { Resource, ResourceKind } from '../resources/types.js';

export interface ListedResources<R extends Resource = Resource> {
  readonly items: R[];
  /** The store revision of the read (printed as the List's metadata.resourceVersion). */
  readonly revision: Revision;
}

/**
 * Errors: CidrpoolError with codes CLIENT_NOT_FOUND, CLIENT_ALREADY_EXISTS, CLIENT_CONFLICT,
 * CLIENT_VALIDATION (issues[] holds every FieldIssue), plus DS_UNAVAILABLE from the store.
 * Messages follow calicoctl (surfaces.md §1.5), e.g. `resource already exists: IPPool(p1)`.
 */
export interface ResourceClient {
  /** Validate, default, run create-only rules (pool overlap, block-size conflict), create. */
  create<R extends Resource>(resource: R): Promise<R>;
  /** Replace an existing resource (CAS on metadata.resourceVersion when given); update rules. */
  update<R extends Resource>(resource: R): Promise<R>;
  /** Create, or update when it exists (calicoctl apply semantics). */
  apply<R extends Resource>(resource: R): Promise<R>;
  /** Throws CLIENT_NOT_FOUND. */
  get(kind: ResourceKind, name: string, namespace?: string): Promise<Resource>;
  /** Undefined when absent. */
  find(kind: ResourceKind, name: string, namespace?: string): Promise<Resource | undefined>;
  /** All of a kind, by name (namespaced kinds: one namespace, or all when undefined). */
  list(kind: ResourceKind, namespace?: string): Promise<ListedResources>;
  /** Delete and return what was deleted. IPPool: disable, release affinities, delete (§1.4). */
  delete(
    kind: ResourceKind,
    name: string,
    namespace?: string,
    resourceVersion?: Revision,
  ): Promise<Resource>;
}

/** Injected clock, uid source and the pool-delete pause, so behaviour is deterministic in tests. */
export interface ResourceClientEnvironment {
  /** Milliseconds since the epoch (creationTimestamp). Default Date.now. */
  now?(): number;
  /** A new metadata.uid. Default crypto.randomUUID. */
  newUid?(): string;
  /**
   * Pause between disabling a pool and releasing its affinities on delete (ipam-core.md §1.4 step
   * 2). Default 500 ms, as libcalico.
   */
  readonly poolDeletePauseMs?: number;
}
