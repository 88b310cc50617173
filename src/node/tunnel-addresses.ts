// Tunnel addresses (calico/node's allocate-tunnel-addrs, spec §2): each node holds one VXLAN
// (v4, v6) and one IPIP tunnel address from a pool that qualifies, under Calico's handle names,
// and publishes it on its Node (spec.ipv4VXLANTunnelAddr, spec.ipv6VXLANTunnelAddr,
// spec.bgp.ipv4IPIPTunnelAddr). Runs at start and after every change of the pools or of this
// Node; passes are serialised and coalesced.
import type { Watcher } from '../datastore/api.js';
import { resourceKey, resourcePrefix } from '../datastore/keys.js';
import {
  decodePool,
  TUNNEL_KINDS,
  tunnelPools,
  type PoolInfo,
  type TunnelKind,
} from '../dataplane/index.js';
import { cidrContainsIp, tryParseIp } from '../net/index.js';
import type { Node } from '../resources/types.js';
import type { AgentContext, AgentService } from './types.js';

const CONFLICT_RETRIES = 5;
const RETRY_MS = 1000;

/** The Node field of a tunnel kind. */
function fieldOf(node: Node, kind: TunnelKind): string | undefined {
  if (kind.name === 'ipip') return node.spec.bgp?.ipv4IPIPTunnelAddr;
  return kind.name === 'vxlan' ? node.spec.ipv4VXLANTunnelAddr : node.spec.ipv6VXLANTunnelAddr;
}

function setField(node: Node, kind: TunnelKind, value: string | undefined): void {
  if (kind.name === 'ipip') {
    const bgp = { ...(node.spec.bgp ?? {}) };
    if (value) bgp.ipv4IPIPTunnelAddr = value;
    else delete bgp.ipv4IPIPTunnelAddr;
    // Calico drops an empty spec.bgp.
    node.spec.bgp = Object.keys(bgp).length > 0 ? bgp : undefined;
    if (!node.spec.bgp) delete node.spec.bgp;
  } else if (kind.name === 'vxlan') {
    if (value) node.spec.ipv4VXLANTunnelAddr = value;
    else delete node.spec.ipv4VXLANTunnelAddr;
  } else if (value) node.spec.ipv6VXLANTunnelAddr = value;
  else delete node.spec.ipv6VXLANTunnelAddr;
}

const isNotFound = (err: unknown) => /NOT_FOUND/.test(String((err as { code?: string }).code));

/** Tunnel address reconciliation for one node. */
export class TunnelAddressAllocator {
  constructor(private readonly context: AgentContext) {}

  private get node(): string {
    return this.context.options.nodeName;
  }

  /** One pass over every tunnel kind; writes the Node when a field changed. */
  async reconcile(): Promise<void> {
    const { client, ipam } = this.context;
    for (let attempt = 1; ; attempt++) {
      const node = (await client.find('Node', this.node)) as Node | undefined;
      if (!node) return; // registration writes it first; nothing to publish on
      const pools = (await client.list('IPPool')).items.flatMap((pool) => {
        const decoded = decodePool(JSON.stringify(pool));
        return decoded.ok ? [decoded.value] : [];
      });
      const allocated: string[] = [];
      const wanted: Node = structuredClone(node);
      try {
        for (const kind of TUNNEL_KINDS) {
          const address = await this.reconcileKind(
            kind,
            fieldOf(node, kind),
            pools,
            node.metadata.labels ?? {},
            allocated,
          );
          setField(wanted, kind, address);
        }
        if (JSON.stringify(wanted.spec) === JSON.stringify(node.spec)) return;
        await client.update(wanted);
        this.context.log('info', 'tunnel addresses published', {
          vxlan: wanted.spec.ipv4VXLANTunnelAddr ?? 'none',
          vxlanV6: wanted.spec.ipv6VXLANTunnelAddr ?? 'none',
          ipip: wanted.spec.bgp?.ipv4IPIPTunnelAddr ?? 'none',
        });
        return;
      } catch (err) {
        // Nothing of this pass may leak: release what it allocated (allocateip.go does the same).
        if (allocated.length > 0) await ipam.releaseIps(allocated.map((address) => ({ address })));
        const conflict = (err as { code?: string }).code === 'CLIENT_CONFLICT';
        if (!conflict || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  /** The address of one kind after this pass (undefined: none), following §2's rules. */
  private async reconcileKind(
    kind: TunnelKind,
    current: string | undefined,
    pools: readonly PoolInfo[],
    labels: Readonly<Record<string, string>>,
    allocated: string[],
  ): Promise<string | undefined> {
    const { ipam } = this.context;
    const handle = kind.handleId(this.node);
    const { keep, allocate } = tunnelPools(kind, pools, labels);
    const inKeep = (ip: string) => {
      const parsed = tryParseIp(ip);
      return parsed !== undefined && keep.some((p) => cidrContainsIp(p.cidr, parsed));
    };
    if (keep.length === 0) {
      if (current) await this.releaseOwn(current, handle);
      else await this.releaseHandle(handle);
      return undefined;
    }
    if (current) {
      const info = await ipam.getAssignmentAttributes(current);
      if (info === undefined) {
        await this.releaseHandle(handle);
      } else {
        const ours =
          info.handleId === handle ||
          (info.attrs.type === kind.attributeType && info.attrs.node === this.node);
        if (ours && inKeep(current)) return current;
        if (ours) await this.releaseHandle(handle);
        else if (!info.handleId && Object.keys(info.attrs).length === 0 && inKeep(current)) {
          // A pre-handle (legacy) allocation: adopt it under our handle.
          await ipam.releaseIps([{ address: current }]);
          try {
            await ipam.assignIp({
              ip: current,
              handleId: handle,
              attrs: this.attrs(kind),
              hostname: this.node,
            });
            return current;
          } catch {
            // Someone took it meanwhile: allocate a new one below.
          }
        }
        // Otherwise it belongs to a pod or another node: keep theirs, take a new one.
      }
    } else {
      await this.releaseHandle(handle);
    }
    if (allocate.length === 0) {
      this.context.log('warning', 'no enabled pool to allocate a tunnel address from', {
        kind: kind.name,
      });
      return undefined;
    }
    const result = await ipam.autoAssign({
      num4: kind.family === 4 ? 1 : 0,
      num6: kind.family === 6 ? 1 : 0,
      handleId: handle,
      attrs: this.attrs(kind),
      hostname: this.node,
      ipv4Pools: kind.family === 4 ? allocate.map((p) => p.cidrText) : undefined,
      ipv6Pools: kind.family === 6 ? allocate.map((p) => p.cidrText) : undefined,
      intendedUse: 'Tunnel',
    });
    const ip = (kind.family === 4 ? result.ipv4 : result.ipv6).ips[0]?.split('/')[0];
    if (!ip) {
      this.context.log('warning', 'no tunnel address available', { kind: kind.name });
      return undefined;
    }
    allocated.push(ip);
    return ip;
  }

  private attrs(kind: TunnelKind): Record<string, string> {
    return { node: this.node, type: kind.attributeType };
  }

  private async releaseHandle(handle: string): Promise<void> {
    try {
      await this.context.ipam.releaseByHandle(handle);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Release `ip` when it is ours (by handle, or a legacy allocation with no handle or attributes). */
  private async releaseOwn(ip: string, handle: string): Promise<void> {
    const info = await this.context.ipam.getAssignmentAttributes(ip);
    if (info?.handleId === handle) await this.releaseHandle(handle);
    else if (info && !info.handleId && Object.keys(info.attrs).length === 0) {
      await this.context.ipam.releaseIps([{ address: ip }]);
    } else {
      await this.releaseHandle(handle);
      if (info)
        this.context.log('info', 'tunnel address belongs to someone else; left alone', { ip });
    }
  }
}

/** The service: a pass at start, then one after each change of the pools or this Node. */
export const tunnelAddressService: AgentService = {
  name: 'tunnel-addresses',
  async start(context) {
    const allocator = new TunnelAddressAllocator(context);
    let queue = Promise.resolve();
    let pending = false;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const trigger = () => {
      if (pending || stopped) return;
      pending = true;
      queue = queue.then(async () => {
        pending = false;
        if (stopped) return;
        try {
          await allocator.reconcile();
        } catch (err) {
          context.log('error', 'tunnel address pass failed; retrying', {
            error: err instanceof Error ? err.message : String(err),
          });
          clearTimeout(retry);
          retry = setTimeout(trigger, RETRY_MS);
        }
      });
    };
    const { revision } = await context.store.list(resourcePrefix('IPPool'), {
      limit: 1,
      keysOnly: true,
    });
    await allocator.reconcile();
    const nodeKey = resourceKey('Node', context.options.nodeName);
    const watchers: Watcher[] = [
      context.store.watch(resourcePrefix('IPPool'), revision, trigger, trigger),
      context.store.watch(
        nodeKey,
        revision,
        (event) => event.key === nodeKey && trigger(),
        trigger,
      ),
    ];
    return {
      async stop() {
        stopped = true;
        clearTimeout(retry);
        await Promise.all(watchers.map((w) => w.close()));
        await queue;
      },
    };
  },
};
