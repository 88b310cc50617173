// The agent's natOutgoing service (dataplane.md §5, and the VXLAN filter of §4.3): watches the IP
// pools and the Nodes (this node's tunnel addresses, the other nodes' VTEP hosts), computes the
// desired `table ip calico` and `table ip6 calico`, and rewrites them in one nft transaction
// when, and only when, they differ from the kernel's.
// Every pass compares the kernel's listing with the one the desired tables must print, so a table
// changed by hand is repaired at the next event; a periodic full resync re-reads the datastore
// and the kernel, so a missed watch event is too. Stopping leaves the tables in place.
import { decodeResource } from '../client/stored-form.js';
import type { Datastore, KeyValue, Watcher } from '../datastore/api.js';
import { resourcePrefix } from '../datastore/keys.js';
import { desiredNatTables, natNames } from '../dataplane/nat.js';
import { parseNatOptions, type NatOptions } from '../dataplane/nat-options.js';
import { isNatTableCurrent, renderNatScript } from '../dataplane/nat-script.js';
import { createNft, type Nft } from '../kernel/nft.js';
import { dataplaneSettingsFromFlags, readFelixFields } from './dataplane-service.js';
import type { IPPool, Node } from '../resources/types.js';
import type { AgentContext, AgentLog, AgentService, RunningService } from './types.js';

export interface NatServiceOptions {
  /** The nftables adapter; default: `nft` of this network namespace. */
  readonly nft?: Nft;
  /** Period of the full resync (datastore and kernel re-read); default 30 s. */
  readonly resyncMs?: number;
  /** Delay before retrying after a failed reconcile; default 2 s. */
  readonly retryMs?: number;
  /** Felix's NAT options; default: from FELIX_NATOUTGOINGADDRESS etc. in the environment. */
  readonly natOptions?: NatOptions;
  /**
   * The VXLAN UDP port the filter guards and translations avoid; default: the dataplane's
   * (`--vxlan-port`, else FelixConfiguration `vxlanPort`, else 4789).
   */
  readonly vxlanPort?: number;
}

/** The datastore state the tables depend on, by key, kept current by the watches. */
interface NatSources {
  readonly pools: Map<string, IPPool>;
  readonly nodes: Map<string, Node>;
}

/** Keeps the kernel's NAT tables equal to the desired ones; one reconcile at a time. */
class NatReconciler {
  private lastScript: string | undefined;

  constructor(
    private readonly nft: Nft,
    private readonly log: AgentLog,
  ) {}

  /** Make the kernel match `sources`; returns true when a script was applied. Throws KERNEL_NFT_*. */
  async reconcile(
    sources: NatSources,
    nodeName: string,
    options: NatOptions,
    vxlanPort: number,
  ): Promise<boolean> {
    const desired = desiredNatTables({
      pools: [...sources.pools.values()],
      nodes: [...sources.nodes.values()],
      nodeName,
      options,
      vxlanPort,
    });
    const listed = await Promise.all(
      desired.map((table) => {
        const names = natNames(table.family);
        return this.nft.listTable(names.nftFamily, names.table);
      }),
    );
    if (desired.every((table, i) => isNatTableCurrent(listed[i], table))) return false;
    // Both tables are written in one transaction: the script is small and the pair stays coherent.
    // Nothing is read back: the next pass compares the kernel with the desired tables again.
    const script = renderNatScript(desired);
    await this.nft.applyScript(script);
    this.log(script === this.lastScript ? 'warning' : 'info', 'nat tables written', {
      reason: script === this.lastScript ? 'kernel tables changed by someone else' : 'desired',
      masqPools: desired.flatMap((t) => t.masqPools),
      tunnels: desired.flatMap((t) => t.tunnels.map((tunnel) => tunnel.device)),
    });
    this.lastScript = script;
    return true;
  }
}

/** Put the decoded resource of `kv` in `into`; a value that does not decode is left out, logged. */
function remember(into: Map<string, unknown>, kv: KeyValue, log: AgentLog): void {
  try {
    into.set(kv.key, decodeResource(kv));
  } catch (err) {
    into.delete(kv.key);
    log('warning', 'ignoring a stored resource that does not decode', {
      key: kv.key,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** Every pool and node, read at one revision (the revision to watch from). */
async function loadSources(
  store: Datastore,
  log: AgentLog,
): Promise<{ sources: NatSources; revision: string }> {
  // Pools are tens and nodes at most thousands: one unpaged read at one revision.
  const batch = await store.readMany([
    { list: resourcePrefix('IPPool') },
    { list: resourcePrefix('Node') },
  ]);
  const [pools, nodes] = batch.responses.map((response) => {
    const byKey = new Map<string, unknown>();
    for (const kv of 'items' in response ? response.items : []) remember(byKey, kv, log);
    return byKey;
  });
  return {
    sources: { pools: pools as Map<string, IPPool>, nodes: nodes as Map<string, Node> },
    revision: batch.revision,
  };
}

/** Start the NAT service of `context`'s node. Throws NODE_NAT_CONFIG for a bad FELIX_NAT* value. */
export async function startNatService(
  context: AgentContext,
  options: NatServiceOptions = {},
): Promise<RunningService> {
  const { store, log } = context;
  const nodeName = context.options.nodeName;
  // A bad value stops the agent at start, naming the variable (NODE_NAT_CONFIG).
  const natOptions = options.natOptions ?? parseNatOptions(process.env);
  const vxlanPort =
    options.vxlanPort ??
    dataplaneSettingsFromFlags(context.options.flags, await readFelixFields(context)).vxlanPort;
  const reconciler = new NatReconciler(options.nft ?? createNft(), log);
  const resyncMs = options.resyncMs ?? 30_000;
  const retryMs = options.retryMs ?? 2_000;

  let sources: NatSources = { pools: new Map(), nodes: new Map() };
  let watchers: Watcher[] = [];
  let stopped = false;
  let running: Promise<void> | undefined;
  let pending: 'none' | 'reconcile' | 'resync' = 'none';
  let retryTimer: NodeJS.Timeout | undefined;

  /** (Re)list the datastore and (re)start both watches from that revision. */
  const resubscribe = async (): Promise<void> => {
    await Promise.all(watchers.splice(0).map((w) => w.close()));
    const loaded = await loadSources(store, log);
    sources = loaded.sources;
    const onError = (error: Error) => {
      log('warning', 'nat watch failed; resyncing', { error: error.message });
      schedule('resync');
    };
    const follow = (prefix: string, into: Map<string, unknown>) =>
      store.watch(
        prefix,
        loaded.revision,
        (event) => {
          if (event.type === 'delete') into.delete(event.key);
          else remember(into, { ...event, value: event.value ?? '' }, log);
          schedule('reconcile');
        },
        onError,
      );
    watchers = [
      follow(resourcePrefix('IPPool'), sources.pools),
      follow(resourcePrefix('Node'), sources.nodes),
    ];
  };

  /** Run one pass: a resync re-reads the datastore first. Failures retry after retryMs. */
  const pass = async (kind: 'reconcile' | 'resync'): Promise<void> => {
    try {
      if (kind === 'resync') await resubscribe();
      await reconciler.reconcile(sources, nodeName, natOptions, vxlanPort);
    } catch (err) {
      log('error', 'nat reconcile failed; retrying', {
        error: err instanceof Error ? err.message : String(err),
        retryMs,
      });
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => schedule('resync'), retryMs);
    }
  };

  /** Coalesce requests: at most one pass runs, and one more (the strongest asked for) follows. */
  function schedule(kind: 'reconcile' | 'resync'): void {
    if (stopped) return;
    if (pending !== 'resync') pending = kind;
    if (running) return;
    running = (async () => {
      while (pending !== 'none' && !stopped) {
        const next = pending;
        pending = 'none';
        await pass(next);
      }
      running = undefined;
    })();
  }

  schedule('resync');
  await running;
  const resyncTimer = setInterval(() => schedule('resync'), resyncMs);

  return {
    async stop() {
      stopped = true;
      clearInterval(resyncTimer);
      clearTimeout(retryTimer);
      await running;
      await Promise.all(watchers.splice(0).map((w) => w.close()));
    },
  };
}

/** The NAT service as the agent lists it (src/node/services.ts). */
export const natService: AgentService = {
  name: 'nat',
  start: (context) => startNatService(context),
};
