// A podman (Debian 4.3.1, CNI backend) whose every setting, image and container lives in a
// temporary folder and whose networks live in a network namespace the test creates: the node.
// The settings that work on these machines are in /work/shared/ENVIRONMENT.md ("Container
// engines"): runc with cgroupfs, events in a file, lower ulimits, podman entered with
// `nsenter --net` (`ip netns exec` remounts /sys and runc then finds no cgroup mount).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execIn, NetnsScope, type ExecResult } from './netns.js';

/** Where the runtime caches CNI results (`<network>-<container id>-<ifname>`): global. */
const CNI_RESULTS = '/var/lib/cni/results';
const BUSYBOX = '/bin/busybox';

/** The image every container runs: busybox-static and its applet links, imported once. */
export const IMAGE = 'localhost/cp10-busybox:latest';

export interface Podman {
  /** The node: the network namespace podman runs in (bridges and host veths live here). */
  readonly node: string;
  readonly dir: string;
  /** Run `podman ARGS` in the node namespace. Never throws for a failed command. */
  run(args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** Run `podman ARGS` and return stdout; throws with stderr when it fails. */
  ok(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** Write `<name>.conflist` into the network config folder. */
  writeNetwork(name: string, plugins: readonly object[], cniVersion?: string): void;
  /** Remove the containers, the image store and the CNI results of the networks named `prefix*`. */
  close(): Promise<void>;
}

export interface PodmanOptions {
  /** The namespace scope the node is created in (the caller's prefix). */
  readonly scope: NetnsScope;
  /** Folders searched for CNI plugins, in order (the project's plugin first). */
  readonly pluginDirs: readonly string[];
  /** Every network this podman gets is named with this prefix (its CNI results are removed). */
  readonly networkPrefix: string;
}

const toml = (s: string) => JSON.stringify(s);

/** A root filesystem tar with busybox-static and a link per applet. */
function buildRootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  for (const sub of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev'])
    mkdirSync(join(root, sub), { recursive: true });
  execFileSync('cp', [BUSYBOX, join(root, 'bin', 'busybox')]);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n');
  for (const applet of applets) {
    if (applet && applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
  }
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

/**
 * Start a podman environment: the config files, a node namespace and the imported image.
 * Throws when podman cannot import the image (a broken setup: scripts/setup.sh installs podman,
 * runc and busybox-static).
 */
export async function startPodman(options: PodmanOptions): Promise<Podman> {
  const dir = mkdtempSync(join(tmpdir(), 'cp10-podman-'));
  const networks = join(dir, 'networks');
  mkdirSync(networks);
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(
    join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = ${toml(join(dir, 'events.log'))}`,
      'runtime = "runc"',
      `tmp_dir = ${toml(join(dir, 'tmp'))}`,
      '[network]',
      'network_backend = "cni"',
      `cni_plugin_dirs = [${options.pluginDirs.map(toml).join(', ')}]`,
      `network_config_dir = ${toml(networks)}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'storage.conf'),
    [
      '[storage]',
      'driver = "overlay"',
      `runroot = ${toml(join(dir, 'run'))}`,
      `graphroot = ${toml(join(dir, 'root'))}`,
      '',
    ].join('\n'),
  );
  const node = options.scope.create();
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
  };
  const run = (args: readonly string[], timeoutMs = 60_000) =>
    execIn(undefined, 'nsenter', [`--net=${NetnsScope.pathOf(node)}`, '--', 'podman', ...args], {
      env,
      timeoutMs,
    });
  const ok = async (args: readonly string[], timeoutMs?: number) => {
    const r = await run(args, timeoutMs);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const podman: Podman = {
    node,
    dir,
    run,
    ok,
    writeNetwork(name, plugins, cniVersion = '1.0.0') {
      writeFileSync(
        join(networks, `${name}.conflist`),
        JSON.stringify({ cniVersion, name, plugins }, null, 2),
      );
    },
    async close() {
      const ids = (await run(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await run(['rm', '-f', '-t', '0', ...ids], 120_000);
      // Containers removed cleanly leave no results; a failed test may leave some behind.
      try {
        for (const f of readdirSync(CNI_RESULTS)) {
          if (f.startsWith(options.networkPrefix)) rmSync(join(CNI_RESULTS, f), { force: true });
        }
      } catch {
        // No results folder: nothing to remove.
      }
      // The overlay mounts go with the storage: unmount through podman, then remove the folder.
      await run(['system', 'reset', '--force'], 120_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await ok(['import', buildRootfs(dir), IMAGE]);
  } catch (err) {
    await podman.close();
    throw err;
  }
  return podman;
}

/** The address podman reports for each container on `network` (`podman inspect`), in order. */
export async function addressesOn(
  podman: Podman,
  network: string,
  containers: readonly string[],
): Promise<string[]> {
  const out = JSON.parse(await podman.ok(['inspect', ...containers])) as {
    NetworkSettings: { Networks: Record<string, { IPAddress: string; IPPrefixLen: number }> };
  }[];
  return out.map((c) => c.NetworkSettings.Networks[network]?.IPAddress ?? '');
}
