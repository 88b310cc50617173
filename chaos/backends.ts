// The two datastores of a chaos run and the faults injected into each (issue 15): a 3-member
// etcd whose members (the raft leader half of the time) are killed -9 and restarted, or frozen
// (SIGSTOP) and thawed; the embedded store on a tmpfs of its own whose disk is filled and emptied.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { startEtcd, type EtcdCluster } from '../test/helpers/etcd-cluster.js';
import type { Ledger } from './ledger.js';

export interface Backend {
  readonly config: DatastoreConfig;
  /** The environment that makes the CLI and the agent use this datastore. */
  readonly env: Record<string, string>;
  /** The datastore part of a CNI network config. */
  readonly cniKeys: Record<string, unknown>;
  /** Inject one fault now (counted in the ledger); resolves when it has been healed. */
  fault(random: () => number, ledger: Ledger): Promise<void>;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The embedded store on a tmpfs of `tmpfsMiB`; a fault fills it for `faultMs`. */
export async function openEmbedded(options: {
  tmpfsMiB: number;
  faultMs: number;
}): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'cp15-chaos-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.tmpfsMiB}m`, 'cp15-chaos', dataDir]);
  return {
    config: { type: 'embedded', dataDir },
    env: { DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: dataDir },
    cniKeys: { datastore_type: 'embedded', data_dir: dataDir },
    async fault(_random, ledger) {
      ledger.faultInjected('diskFull');
      const filler = join(dataDir, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1 << 20);
      try {
        for (let i = 0; i < 4096; i++) writeSync(fd, chunk); // until ENOSPC (bounded)
      } catch {
        // the disk is full: what this fault is for
      } finally {
        closeSync(fd);
      }
      await sleep(options.faultMs);
      rmSync(filler, { force: true });
    },
    async close() {
      try {
        execFileSync('umount', [dataDir]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A 3-member etcd; a fault kills -9 or freezes one member for `faultMs`. */
export async function openEtcd(options: {
  faultMs: number;
  log?: (line: string) => void;
}): Promise<Backend> {
  const cluster: EtcdCluster = await startEtcd({ members: 3 });
  const endpoints = cluster.endpoints.join(',');
  /** Start a killed member again; a start that fails is counted and tried at the next fault. */
  const restart = async (index: number, ledger: Ledger) => {
    try {
      await cluster.restart(index);
    } catch (err) {
      ledger.faultInjected('etcdRestartFailed');
      options.log?.(`etcd member ${index} did not start again: ${String(err).slice(-600)}`);
    }
  };
  return {
    config: { type: 'etcdv3', endpoints: cluster.endpoints },
    env: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: endpoints },
    cniKeys: { datastore_type: 'etcdv3', etcd_endpoints: endpoints },
    async fault(random, ledger) {
      // A member that could not be started again last time is tried again before anything else.
      const down = cluster.members.findIndex((m) => m.pid === undefined);
      if (down >= 0) return restart(down, ledger);
      const leader = await cluster.leaderIndex().catch(() => 0);
      const victim = random() < 0.5 ? leader : Math.floor(random() * 3);
      if (random() < 0.5) {
        ledger.faultInjected('etcdKill');
        ledger.killed('etcd member');
        if (victim === leader) ledger.faultInjected('etcdLeaderKill');
        await cluster.kill(victim);
        await sleep(options.faultMs);
        await restart(victim, ledger);
      } else {
        const pid = cluster.members[victim]!.pid;
        if (pid === undefined) return;
        ledger.faultInjected('etcdFreeze');
        if (victim === leader) ledger.faultInjected('etcdLeaderFreeze');
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep(options.faultMs);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      }
    },
    close: () => cluster.stop(),
  };
}
