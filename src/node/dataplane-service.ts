// The dataplane service: load the pools, nodes and blocks at one revision, program the kernel,
// then follow the datastore's watch (both stores) and apply each burst of changes within
// milliseconds; a full resync runs every --route-refresh-interval seconds and after any failure
// or watch error. Stopping closes the watches and leaves the kernel as it is.
import type { Datastore, Watcher } from '../datastore/api.js';
import {
  DATAPLANE_PREFIXES,
  DEFAULT_DATAPLANE_SETTINGS,
  DataplaneModel,
  applyDatastoreKey,
  type DataplaneSettings,
} from '../dataplane/index.js';
import { CidrpoolError } from '../errors/index.js';
import type { FelixConfigurationSpec } from '../resources/index.js';
import { CALICO_MTU_FILE } from '../kernel/mtu-file.js';
import { DataplaneReconciler } from './dataplane-reconciler.js';
import type { AgentContext, AgentLog, AgentService, RunningService } from './types.js';
import { networkingBackend } from './bgp.js';

/** Felix's routeRefreshInterval. */
const DEFAULT_RESYNC_SECONDS = 90;
/** Changes arriving within this window are applied together. */
const COALESCE_MS = 5;
/** After a failed pass or a watch error, retry after this long (doubling up to the maximum). */
const RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** A whole-number flag in [min, max], or its default. Throws NODE_INVALID_FLAG. */
function intFlag(
  flags: AgentContext['options']['flags'],
  name: string,
  flag: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = flags[name];
  if (raw === undefined || raw === false) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CidrpoolError(
      'NODE_INVALID_FLAG',
      `${flag} ${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`,
      {
        details: { flag, value: raw },
      },
    );
  }
  return value;
}

/** The FelixConfiguration fields the dataplane takes, in its settings' names. */
export type FelixDataplaneFields = Partial<
  Pick<DataplaneSettings, 'vxlanVni' | 'vxlanPort' | 'vxlanMtu' | 'vxlanMtuV6' | 'ipipMtu'>
> & { readonly routeRefreshSeconds?: number };

/** `90s`, `1m30s`, `1h` (a Go duration) in whole seconds; undefined when it is none. */
function durationSeconds(text: string | undefined): number | undefined {
  if (!text || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    seconds += Number(m[1]) * unit[m[2]!]!;
  return Math.round(seconds);
}

/**
 * The dataplane fields of FelixConfiguration `default` overlaid by `node.<name>` (Calico's
 * precedence); a field set in neither is left out. Validation already checked the values.
 */
export function felixDataplaneFields(
  ...specs: readonly (FelixConfigurationSpec | undefined)[]
): FelixDataplaneFields {
  const out: Record<string, number> = {};
  for (const spec of specs) {
    if (!spec) continue;
    const fields: Record<string, number | undefined> = {
      vxlanVni: spec.vxlanVNI,
      vxlanPort: spec.vxlanPort,
      vxlanMtu: spec.vxlanMTU,
      vxlanMtuV6: spec.vxlanMTUV6,
      ipipMtu: spec.ipipMTU,
      routeRefreshSeconds: durationSeconds(spec.routeRefreshInterval),
    };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The dataplane settings of `cidrpool node run`: a flag given wins, then `felix` (the
 * FelixConfiguration fields), then Felix's defaults. Throws NODE_INVALID_FLAG.
 */
export function dataplaneSettingsFromFlags(
  flags: AgentContext['options']['flags'],
  felix: FelixDataplaneFields = {},
): DataplaneSettings {
  const d = { ...DEFAULT_DATAPLANE_SETTINGS, ...felix };
  return {
    ...DEFAULT_DATAPLANE_SETTINGS,
    vxlanVni: intFlag(flags, 'vxlanVni', '--vxlan-vni', 1, 16_777_215, d.vxlanVni),
    vxlanPort: intFlag(flags, 'vxlanPort', '--vxlan-port', 1, 65_535, d.vxlanPort),
    vxlanMtu: intFlag(flags, 'vxlanMtu', '--vxlan-mtu', 0, 65_535, d.vxlanMtu),
    vxlanMtuV6: intFlag(flags, 'vxlanMtuV6', '--vxlan-mtu-v6', 0, 65_535, d.vxlanMtuV6),
    ipipMtu: intFlag(flags, 'ipipMtu', '--ipip-mtu', 0, 65_535, d.ipipMtu),
    programNoEncapRoutes: networkingBackend(flags) !== 'bird',
  };
}

/** The running dataplane: exposed for tests and the benchmark. */
export class DataplaneRunner implements RunningService {
  readonly model: DataplaneModel;
  readonly reconciler: DataplaneReconciler;
  private watchers: Watcher[] = [];
  private queue: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MS;
  private stopped = false;
  /** Bumped on every restart of the watches, so events of an old watch are ignored. */
  private generation = 0;

  constructor(
    private readonly store: Datastore,
    nodeName: string,
    settings: DataplaneSettings,
    private readonly resyncMs: number,
    private readonly log: AgentLog,
    mtuFile?: string,
  ) {
    this.model = new DataplaneModel(nodeName, settings);
    this.reconciler = new DataplaneReconciler(this.model, log, mtuFile);
  }

  /** Load, program and start watching. Rejects when the first load or resync fails. */
  async start(): Promise<void> {
    await this.enqueue(() => this.reload(), false);
    this.resyncTimer = setInterval(() => void this.enqueue(() => this.resync()), this.resyncMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    await Promise.all(this.watchers.splice(0).map((w) => w.close()));
    await this.queue.catch(() => undefined);
  }

  /** Resolves once every change received so far has been applied. */
  idle(): Promise<void> {
    return this.enqueue(() => this.flush());
  }

  /** Snapshot at one revision, program everything, then watch from that revision. */
  private async reload(): Promise<void> {
    const generation = ++this.generation;
    await Promise.all(this.watchers.splice(0).map((w) => w.close()));
    const snapshot = await this.store.readMany(
      DATAPLANE_PREFIXES.map((prefix) => ({ list: prefix })),
    );
    this.model.clear();
    for (const response of snapshot.responses) {
      for (const kv of 'items' in response ? response.items : []) this.applyKey(kv.key, kv.value);
    }
    await this.resync();
    this.watchers = DATAPLANE_PREFIXES.map((prefix) =>
      this.store.watch(
        prefix,
        snapshot.revision,
        (event) => {
          if (generation !== this.generation || this.stopped) return;
          this.applyKey(event.key, event.type === 'put' ? event.value : undefined);
          this.scheduleFlush();
        },
        (error) => {
          if (generation !== this.generation || this.stopped) return;
          this.log('warning', 'datastore watch failed; reloading', { error: error.message });
          this.retryLater(() => this.reload());
        },
      ),
    );
  }

  private async resync(): Promise<void> {
    const started = Date.now();
    const failures = await this.reconciler.fullResync();
    this.log('debug', 'full resync done', { ms: Date.now() - started, failures: failures.length });
    if (failures.length > 0) this.retryLater(() => this.resync());
  }

  private async flush(): Promise<void> {
    const failures = await this.reconciler.flush();
    if (failures.length > 0) this.retryLater(() => this.resync());
  }

  private applyKey(key: string, value: string | undefined): void {
    const problem = applyDatastoreKey(this.model, key, value);
    if (problem) this.log('warning', 'datastore value skipped', { key, problem });
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.enqueue(() => this.flush());
    }, COALESCE_MS);
  }

  private retryLater(task: () => Promise<void>): void {
    if (this.retryTimer || this.stopped) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.enqueue(task);
    }, delay);
  }

  /**
   * Run `task` after every earlier one. With `swallow` (the default) a failure is logged and a
   * retry scheduled; otherwise the returned promise rejects.
   */
  private enqueue(task: () => Promise<void>, swallow = true): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped) return;
      await task();
      this.retryMs = RETRY_MS;
    });
    this.queue = run.catch(() => undefined);
    if (!swallow) return run;
    return run.catch((err: unknown) => {
      this.log('error', 'dataplane pass failed; retrying', {
        error: err instanceof Error ? err.message : String(err),
      });
      this.retryLater(() => this.reload());
    });
  }
}

/**
 * The period of the full resync in seconds: --route-refresh-interval, else FelixConfiguration's
 * routeRefreshInterval, else 90. Throws NODE_INVALID_FLAG.
 */
export const resyncSecondsFromFlags = (
  flags: AgentContext['options']['flags'],
  felix: FelixDataplaneFields = {},
): number =>
  intFlag(
    flags,
    'routeRefreshInterval',
    '--route-refresh-interval',
    1,
    86_400,
    felix.routeRefreshSeconds && felix.routeRefreshSeconds > 0
      ? felix.routeRefreshSeconds
      : DEFAULT_RESYNC_SECONDS,
  );

/** One read per agent: the dataplane and NAT services both start from the same fields. */
const felixFieldsByAgent = new WeakMap<AgentContext, Promise<FelixDataplaneFields>>();

/**
 * FelixConfiguration `default` and `node.<name>` as the datastore held them when the agent's
 * first service asked (read once per agent, at start).
 */
export function readFelixFields(context: AgentContext): Promise<FelixDataplaneFields> {
  let fields = felixFieldsByAgent.get(context);
  if (!fields) {
    fields = readFelixFieldsOnce(context);
    felixFieldsByAgent.set(context, fields);
  }
  return fields;
}

async function readFelixFieldsOnce(context: AgentContext): Promise<FelixDataplaneFields> {
  const specOf = async (name: string) => {
    const found = await context.client.find('FelixConfiguration', name);
    return found?.kind === 'FelixConfiguration' ? found.spec : undefined;
  };
  const fields = felixDataplaneFields(
    await specOf('default'),
    await specOf(`node.${context.options.nodeName}`),
  );
  if (Object.keys(fields).length > 0)
    context.log('info', 'FelixConfiguration read (flags given win)', { ...fields });
  return fields;
}

/** Where the pod MTU goes: --mtu-file, Calico's path by default; undefined for "none". */
export function mtuFileFromFlags(flags: AgentContext['options']['flags']): string | undefined {
  const value = flags.mtuFile;
  if (value === 'none') return undefined;
  return typeof value === 'string' && value !== '' ? value : CALICO_MTU_FILE;
}

/** The dataplane service of `cidrpool node run`. */
export const dataplaneService: AgentService = {
  name: 'dataplane',
  async start(context) {
    const flags = context.options.flags;
    // Read once, at start: Felix too restarts to apply most of its configuration.
    const felix = await readFelixFields(context);
    const resyncSeconds = resyncSecondsFromFlags(flags, felix);
    const runner = new DataplaneRunner(
      context.store,
      context.options.nodeName,
      dataplaneSettingsFromFlags(flags, felix),
      resyncSeconds * 1000,
      context.log,
      mtuFileFromFlags(flags),
    );
    await runner.start();
    const { stats } = runner.reconciler;
    context.log('info', 'dataplane programmed', {
      routes: runner.model.desiredRoutes().size,
      kernelOperations: stats.kernelOperations,
    });
    return runner;
  },
};
