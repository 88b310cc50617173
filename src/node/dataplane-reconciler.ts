// Keeps the kernel in step with the DataplaneModel. Two ways in:
// - `flush()` after datastore changes: only what the model marked (one block change costs one
//   route line), diffed against what this agent last programmed;
// - `fullResync()` at start and periodically: reads the kernel's owned state (routes of protocol
//   80 or on the agent's devices, permanent FDB/neighbour entries on the VXLAN devices) and
//   fixes every difference, so a restarted agent removes stale state it owns and nothing else.
// All kernel changes of one pass go through one `ip -batch` and one `bridge -batch` process.
import {
  VXLAN_DEVICE,
  diffAllRoutes,
  diffEntries,
  diffRouteKeys,
  hostMtu,
  sameFdb,
  sameNeighbour,
  type DataplaneModel,
  type EntryChanges,
  type FdbEntry,
  type KernelRoute,
  type NeighbourEntry,
  type VtepEntries,
} from '../dataplane/index.js';
import { readInterfaces } from '../kernel/interfaces.js';
import { writeMtuFile } from '../kernel/mtu-file.js';
import { readOwnedRoutes, routeDeleteLine, routeReplaceLine } from '../kernel/routes.js';
import { runBatch, type BatchFailure } from '../kernel/run-tool.js';
import {
  deleteLink,
  ensureIpipDevice,
  ensureVxlanDevice,
  linkNames,
} from '../kernel/tunnel-devices.js';
import {
  fdbDeleteLine,
  fdbReplaceLine,
  neighbourDeleteLine,
  neighbourReplaceLine,
  readFdb,
  readNeighbours,
} from '../kernel/vxlan-fdb.js';
import type { IpFamily } from '../net/index.js';
import { interfaceHolding } from './autodetect.js';
import type { AgentLog } from './types.js';

const FAMILIES: readonly IpFamily[] = [4, 6];

/** Counters of what the reconciler did (for logs, tests and the benchmark). */
export interface ReconcilerStats {
  fullResyncs: number;
  flushes: number;
  /** Kernel operations sent (batch lines and device commands). */
  kernelOperations: number;
  failedOperations: number;
}

/** The lines of one pass, in the order they are applied. */
interface PassLines {
  ip: string[];
  bridge: string[];
}

export class DataplaneReconciler {
  readonly stats: ReconcilerStats = {
    fullResyncs: 0,
    flushes: 0,
    kernelOperations: 0,
    failedOperations: 0,
  };
  /** Routes as last programmed, by destination. */
  private programmed = new Map<string, KernelRoute>();
  /** VTEP entries as last programmed, by `family/node`. */
  private programmedVteps = new Map<string, VtepEntries>();
  /** Devices routes may use (present tunnel devices and parents). */
  private devices = new Set<string>();
  private ipipWarned = '';
  /** The pod MTU last written to the MTU file. */
  private writtenMtu: number | undefined;

  /** `mtuFile`: where the pod MTU is written for the CNI plugin (undefined: nowhere). */
  constructor(
    private readonly model: DataplaneModel,
    private readonly log: AgentLog,
    private readonly mtuFile?: string,
  ) {}

  /**
   * Read the kernel and make every owned route, device and entry match the model. Returns the
   * failed lines (they are retried by the next pass).
   */
  async fullResync(): Promise<BatchFailure[]> {
    this.stats.fullResyncs++;
    await this.readEnvironment();
    this.model.takeChanges();
    await this.ensureDevices();
    const lines: PassLines = { ip: [], bridge: [] };
    const wantedVteps = new Map<string, VtepEntries>();
    for (const family of FAMILIES) {
      const device = VXLAN_DEVICE[family];
      if (!this.devices.has(device)) continue;
      const fdb = new Map<string, FdbEntry>();
      const neighbours = new Map<string, NeighbourEntry>();
      for (const node of this.model.nodeNames()) {
        const entries = this.model.vtepEntries(node, family);
        if (!entries) continue;
        wantedVteps.set(`${family}/${node}`, entries);
        fdb.set(entries.fdb.mac, entries.fdb);
        neighbours.set(entries.neighbour.ip, entries.neighbour);
      }
      const fdbChanges = diffEntries(fdb, await readFdb(device), (e) => e.mac, sameFdb);
      const neighbourChanges = diffEntries(
        neighbours,
        await readNeighbours(device),
        (e) => e.ip,
        sameNeighbour,
      );
      addEntryLines(
        lines.bridge,
        fdbChanges,
        (e) => fdbDeleteLine(device, e),
        (e) => fdbReplaceLine(device, e),
      );
      addEntryLines(
        lines.ip,
        neighbourChanges,
        (e) => neighbourDeleteLine(device, e),
        (e) => neighbourReplaceLine(device, e),
      );
    }
    const desired = this.effectiveRoutes();
    const ownership = {
      protocols: [this.model.settings.routeProtocol],
      devices: [VXLAN_DEVICE[4], VXLAN_DEVICE[6]],
    };
    const actual = [
      ...(await readOwnedRoutes(4, ownership)),
      ...(await readOwnedRoutes(6, ownership)),
    ];
    addEntryLines(lines.ip, diffAllRoutes(desired, actual), routeDeleteLine, routeReplaceLine);
    const failures = await this.apply(lines);
    this.programmed = new Map(desired);
    this.programmedVteps = wantedVteps;
    return failures;
  }

  /** Apply what changed in the model since the last pass. Returns the failed lines. */
  async flush(): Promise<BatchFailure[]> {
    const changes = this.model.takeChanges();
    if (changes.devices) {
      const before = [...this.devices].sort().join(',');
      const recreated = await this.ensureDevices();
      if (recreated || before !== [...this.devices].sort().join(',')) {
        // Routes and entries on a new or deleted device are gone: start from the kernel.
        return this.fullResync();
      }
    }
    this.stats.flushes++;
    const lines: PassLines = { ip: [], bridge: [] };
    for (const node of changes.vteps) {
      for (const family of FAMILIES) this.vtepLines(node, family, lines);
    }
    const desired = this.effectiveRoutes(changes.routes);
    const routeChanges = diffRouteKeys(changes.routes, desired, this.programmed);
    addEntryLines(lines.ip, routeChanges, routeDeleteLine, routeReplaceLine);
    const failures = await this.apply(lines);
    for (const key of changes.routes) {
      const route = desired.get(key);
      if (route) this.programmed.set(key, route);
      else this.programmed.delete(key);
    }
    return failures;
  }

  /** The node's parent devices and host MTU, from its interfaces. */
  private async readEnvironment(): Promise<void> {
    const interfaces = await readInterfaces();
    const local = this.model.localNodeInfo();
    const parentOf = (ip: string | undefined) =>
      ip ? interfaceHolding(interfaces, ip) : undefined;
    this.model.setEnvironment({
      parent4: parentOf(local?.ipv4 && formatHost(local.ipv4.text)),
      parent6: parentOf(local?.ipv6 && formatHost(local.ipv6.text)),
      hostMtu: hostMtu(interfaces),
    });
  }

  /** Create, fix or delete the tunnel devices; returns whether one was (re)created. */
  private async ensureDevices(): Promise<boolean> {
    let recreated = false;
    for (const family of FAMILIES) {
      const wish = this.model.vxlanDevice(family);
      const name = VXLAN_DEVICE[family];
      if (wish.state === 'present') {
        if (await ensureVxlanDevice(wish.device, (m, f) => this.log('info', m, f))) {
          this.log('info', 'VXLAN device created', {
            device: name,
            vni: wish.device.vni,
            mtu: wish.device.mtu,
          });
          recreated = true;
        }
        this.stats.kernelOperations++;
      } else if (wish.state === 'absent') {
        if (await deleteLink(name)) {
          this.log('info', 'VXLAN device deleted: no pool of its family has VXLAN', {
            device: name,
          });
          recreated = true;
        }
      } else {
        this.log('debug', 'VXLAN device left as it is', { device: name, reason: wish.reason });
      }
    }
    const ipip = this.model.ipipDevice();
    if (ipip.state === 'present') {
      const result = await ensureIpipDevice(ipip.device);
      if (!result.ok && this.ipipWarned !== result.reason) {
        this.ipipWarned = result.reason;
        this.log(
          'warning',
          'an IPIP pool exists but tunl0 cannot be set up; its routes are left out (see `cidrpool node checksystem`)',
          {
            reason: result.reason,
          },
        );
      }
    }
    this.devices = await linkNames();
    await this.writePodMtu();
    return recreated;
  }

  /** Write the pod MTU when it changed (pools' encapsulation, host MTU, configured MTUs). */
  private async writePodMtu(): Promise<void> {
    const mtu = this.model.podMtu();
    if (!this.mtuFile || mtu === this.writtenMtu) return;
    try {
      await writeMtuFile(this.mtuFile, mtu);
      this.writtenMtu = mtu;
      this.log('info', 'pod MTU written', { file: this.mtuFile, mtu });
    } catch (err) {
      // The routes matter more than the file: log, and try again on the next pass.
      this.log('warning', 'pod MTU file not written', {
        file: this.mtuFile,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** The model's routes that can be programmed now: their device exists (IPIP may not). */
  private effectiveRoutes(keys?: readonly string[]): Map<string, KernelRoute> {
    const all = this.model.desiredRoutes();
    const out = new Map<string, KernelRoute>();
    const usable = (r: KernelRoute) => r.device === undefined || this.devices.has(r.device);
    if (keys) {
      for (const key of keys) {
        const route = all.get(key);
        if (route && usable(route)) out.set(key, route);
      }
    } else {
      for (const [key, route] of all) if (usable(route)) out.set(key, route);
    }
    return out;
  }

  private vtepLines(node: string, family: IpFamily, lines: PassLines): void {
    const device = VXLAN_DEVICE[family];
    const key = `${family}/${node}`;
    const have = this.programmedVteps.get(key);
    const want = this.devices.has(device) ? this.model.vtepEntries(node, family) : undefined;
    if (
      have &&
      want &&
      sameFdb(have.fdb, want.fdb) &&
      sameNeighbour(have.neighbour, want.neighbour)
    )
      return;
    if (have && (!want || have.fdb.mac !== want.fdb.mac))
      lines.bridge.push(fdbDeleteLine(device, have.fdb));
    if (have && (!want || have.neighbour.ip !== want.neighbour.ip))
      lines.ip.push(neighbourDeleteLine(device, have.neighbour));
    if (want) {
      lines.bridge.push(fdbReplaceLine(device, want.fdb));
      lines.ip.push(neighbourReplaceLine(device, want.neighbour));
      this.programmedVteps.set(key, want);
    } else {
      this.programmedVteps.delete(key);
    }
  }

  private async apply(lines: PassLines): Promise<BatchFailure[]> {
    const failures = [
      ...(await runBatch('bridge', lines.bridge)),
      ...(await runBatch('ip', lines.ip)),
    ];
    this.stats.kernelOperations += lines.ip.length + lines.bridge.length;
    this.stats.failedOperations += failures.length;
    for (const failure of failures)
      this.log('warning', 'kernel change failed; retried on the next resync', { ...failure });
    return failures;
  }
}

/** Deletes first, then replaces. */
function addEntryLines<T>(
  out: string[],
  changes: EntryChanges<T>,
  deleteLine: (e: T) => string,
  replaceLine: (e: T) => string,
): void {
  for (const e of changes.delete) out.push(deleteLine(e));
  for (const e of changes.replace) out.push(replaceLine(e));
}

/** `192.168.10.11/24` -> `192.168.10.11`. */
const formatHost = (text: string): string => text.split('/')[0]!;
