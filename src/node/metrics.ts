// The node agent's Prometheus metrics and readiness checks: one registry per process, which the
// agent's services record into and the metrics service (metrics-service.ts) serves.
// docs/node-agent.md "## IPAM socket and metrics" lists every metric.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: a socket request takes ~0.1-10 ms, a datastore round trip ~0.2-50 ms. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Usage of one pool, refreshed on scrape (at most every POOL_USAGE_MIN_INTERVAL_MS). */
export interface PoolUsage {
  readonly pool: string;
  readonly cidr: string;
  readonly inUse: number;
  readonly total: number;
}

/** What the IPAM service reports on scrape (cluster-wide reads, so rate-limited). */
export interface IpamUsage {
  readonly pools: readonly PoolUsage[];
  /** Addresses this node holds in blocks affine to other nodes (or to none). */
  readonly borrowed: number;
}

export const POOL_USAGE_MIN_INTERVAL_MS = 15_000;

function createAgentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cidrpool_agent_' });
  const readiness = new Map<string, () => boolean>();
  let usageSource: (() => Promise<IpamUsage>) | undefined;
  let usage: { at: number; value: IpamUsage } | undefined;
  let nodeBlocksSource: (() => number) | undefined;

  async function currentUsage(): Promise<IpamUsage | undefined> {
    if (!usageSource) return undefined;
    if (!usage || Date.now() - usage.at >= POOL_USAGE_MIN_INTERVAL_MS) {
      usage = { at: Date.now(), value: await usageSource() };
    }
    return usage.value;
  }

  const metrics = {
    registry,
    allocations: new Counter({
      name: 'cidrpool_ipam_allocations_total',
      help: 'Allocation requests answered by the agent (AutoAssign and AssignIP), by result (ok, shortfall, error) and error code.',
      labelNames: ['operation', 'result', 'code'] as const,
      registers: [registry],
    }),
    releases: new Counter({
      name: 'cidrpool_ipam_releases_total',
      help: 'Release requests answered by the agent (ReleaseByHandle and ReleaseIPs), by result and error code.',
      labelNames: ['operation', 'result', 'code'] as const,
      registers: [registry],
    }),
    undone: new Counter({
      name: 'cidrpool_ipam_undone_assignments_total',
      help: 'ADDs undone (endpoint deleted, addresses released) because their caller had gone or timed out before the answer.',
      registers: [registry],
    }),
    socketLatency: new Histogram({
      name: 'cidrpool_ipam_socket_request_duration_seconds',
      help: 'Time the agent took to answer one CNI call on the IPAM socket, by operation (ADD, DEL, CHECK, other).',
      labelNames: ['operation'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    datastoreLatency: new Histogram({
      name: 'cidrpool_datastore_request_duration_seconds',
      help: 'Time of one datastore round trip made by the agent, by kind (read, write).',
      labelNames: ['kind'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    roundTrips: new Counter({
      name: 'cidrpool_datastore_round_trips_total',
      help: 'Datastore round trips made by the agent, by kind (read, write) and result (ok, error).',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'cidrpool_ipam_batch_size',
      help: 'Allocations answered by one datastore write: the size of a batch, or 1 through the engine.',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    releaseBatchSize: new Histogram({
      name: 'cidrpool_ipam_release_batch_size',
      help: 'Handles released by one datastore write of a release batch (concurrent DELs on one block).',
      buckets: [2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'cidrpool_ipam_cache_reads_total',
      help: 'Reads of the IPAM engine answered from the watch-fed cache (hit) or the datastore (miss).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    resyncs: new Counter({
      name: 'cidrpool_ipam_cache_resyncs_total',
      help: 'Times the IPAM cache was listed again after its watch failed.',
      registers: [registry],
    }),
    cacheReady: new Gauge({
      name: 'cidrpool_ipam_cache_ready',
      help: '1 when the IPAM cache is synced and watching, else 0.',
      registers: [registry],
    }),
    reconciles: new Counter({
      name: 'cidrpool_dataplane_reconciles_total',
      help: "The dataplane's reconcile passes, by result (ok, error); recorded through recordReconcile.",
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    /** Serve `/readyz` as ready only when every registered check passes. */
    registerReadiness(name: string, check: () => boolean): void {
      readiness.set(name, check);
    },
    /** The names of the checks that do not pass (empty: ready). */
    notReady(): string[] {
      return [...readiness].filter(([, check]) => !check()).map(([name]) => name);
    },
    setUsageSource(source: () => Promise<IpamUsage>): void {
      usageSource = source;
      usage = undefined;
    },
    setNodeBlocksSource(source: () => number): void {
      nodeBlocksSource = source;
    },
  };

  /** A per-pool gauge set on scrape from the usage source. */
  const poolGauge = (name: string, help: string, pick: (p: PoolUsage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool', 'cidr'] as const,
      registers: [registry],
      async collect() {
        const u = await currentUsage();
        this.reset();
        for (const p of u?.pools ?? []) this.set({ pool: p.pool, cidr: p.cidr }, pick(p));
      },
    });
  poolGauge(
    'cidrpool_ipam_pool_addresses_in_use',
    'Addresses allocated (or cooling down) in each IP pool, cluster-wide.',
    (p) => p.inUse,
  );
  poolGauge('cidrpool_ipam_pool_addresses_total', 'Addresses in each IP pool.', (p) => p.total);
  new Gauge({
    name: 'cidrpool_ipam_borrowed_addresses',
    help: 'Addresses this node holds in blocks affine to another node (or to none).',
    registers: [registry],
    async collect() {
      const u = await currentUsage();
      if (u) this.set(u.borrowed);
    },
  });
  new Gauge({
    name: 'cidrpool_ipam_node_blocks',
    help: 'Blocks affine to this node.',
    registers: [registry],
    collect() {
      if (nodeBlocksSource) this.set(nodeBlocksSource());
    },
  });
  return metrics;
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;

let shared: AgentMetrics | undefined;

/** The process's metrics (created on first use). */
export function agentMetrics(): AgentMetrics {
  return (shared ??= createAgentMetrics());
}

/** For the dataplane service: count one reconcile pass. */
export function recordReconcile(result: 'ok' | 'error'): void {
  agentMetrics().reconciles.inc({ result });
}
