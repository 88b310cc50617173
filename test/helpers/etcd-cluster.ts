// Real etcd for tests: 1 or 3 members on free loopback ports, data on tmpfs, fast raft timing
// (ENVIRONMENT.md: healthy in ~90 ms, leader failover in ~0.4 s). Every member is SIGKILLed and
// awaited on stop(), and also when the test process exits, so a crashed test leaves no etcd.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Server-side TLS of the client port (peers stay on plain http, on loopback). */
export interface EtcdServerTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Require a client certificate signed by caFile (--client-cert-auth). Default true. */
  readonly clientCertAuth?: boolean;
  /** Client certificate and key the harness itself uses for health checks and etcdctl. */
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
}

export interface StartEtcdOptions {
  readonly members?: 1 | 3;
  readonly tls?: EtcdServerTls;
  /** Deadline for the cluster to become healthy. Default 20 s. */
  readonly startTimeoutMs?: number;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** Undefined once killed. */
  readonly pid: number | undefined;
}

export interface EtcdCluster {
  /** Client URLs of every member, in member order (what EtcdConfig.endpoints takes). */
  readonly endpoints: string[];
  /** The same URLs, one per member. */
  readonly clientUrls: string[];
  readonly members: readonly EtcdMember[];
  /** SIGKILL one member and wait until it has exited. */
  kill(memberIndex: number): Promise<void>;
  /** Start a killed member again on its data dir and wait until it is healthy. */
  restart(memberIndex: number): Promise<void>;
  /** Index of the member that is raft leader now (asks the live members with etcdctl). */
  leaderIndex(): Promise<number>;
  /** Run etcdctl (API v3) against the live members; resolves to stdout as bytes. */
  etcdctl(args: readonly string[]): Promise<Buffer>;
  /** SIGKILL every member, wait for them to exit, remove the data directories. */
  stop(): Promise<void>;
}

interface RunningMember extends EtcdMember {
  process: ChildProcess | undefined;
  exited: Promise<void>;
  output: string;
}

const live = new Set<{ members: RunningMember[]; dataRoot: string }>();
let exitHookInstalled = false;

/** Kill whatever is still running when the test process goes away, however it goes. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const cluster of live) {
      for (const member of cluster.members) member.process?.kill('SIGKILL');
      try {
        // The members may not have exited yet (there is no waiting in an exit hook).
        rmSync(cluster.dataRoot, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // best effort: a tmpfs directory is gone at the next boot anyway
      }
    }
    live.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Install etcd from Debian when the machine lacks it (needs root, as on the test machines). */
export function ensureEtcdInstalled(): void {
  const found = (name: string) =>
    (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
  if (found('etcd') && found('etcdctl')) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'etcd is not installed and this is not root: apt-get install etcd-server etcd-client',
    );
  }
  const install = () =>
    spawnSync('apt-get', ['install', '-y', 'etcd-server', 'etcd-client'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    if (install().status !== 0) throw new Error('apt-get install etcd-server etcd-client failed');
  }
}

/** A loopback port nobody listens on right now (bind port 0, read it, release it). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Start an etcd cluster and wait until every member reports healthy. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  ensureEtcdInstalled();
  installExitHook();
  const count = options.members ?? 1;
  const tls = options.tls;
  const scheme = tls ? 'https' : 'http';
  const shm = '/dev/shm';
  const dataRoot = mkdtempSync(join(existsSync(shm) ? shm : tmpdir(), 'cidrpool-etcd-'));
  const ports: number[] = [];
  while (ports.length < count * 2) {
    const port = await findFreePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const token = `cidrpool-test-${process.pid}-${Date.now()}`;
  const specs = Array.from({ length: count }, (_, i) => ({
    name: `m${i}`,
    clientUrl: `${scheme}://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const members: RunningMember[] = [];
  const cluster = { members, dataRoot };
  live.add(cluster);

  const argsOf = (spec: (typeof specs)[number]): string[] => {
    // prettier-ignore
    const args = [
      '--name', spec.name,
      '--data-dir', join(dataRoot, spec.name),
      '--listen-client-urls', spec.clientUrl,
      '--advertise-client-urls', spec.clientUrl,
      '--listen-peer-urls', spec.peerUrl,
      '--initial-advertise-peer-urls', spec.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
      '--heartbeat-interval', '10',
      '--election-timeout', '100',
      '--logger', 'zap',
      '--log-level', 'error',
    ];
    if (tls) {
      args.push('--cert-file', tls.certFile, '--key-file', tls.keyFile);
      args.push('--trusted-ca-file', tls.caFile);
      if (tls.clientCertAuth ?? true) args.push('--client-cert-auth');
    }
    return args;
  };
  /** Start (or start again, on its data dir) the member of `spec`, updating `member` in place. */
  const launch = (spec: (typeof specs)[number], member?: RunningMember): RunningMember => {
    const child = spawn('etcd', argsOf(spec), { stdio: ['ignore', 'ignore', 'pipe'] });
    const target: RunningMember = member ?? ({ ...spec, output: '' } as RunningMember);
    Object.assign(target, {
      process: child,
      pid: child.pid,
      exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      target.output = (target.output + chunk.toString()).slice(-4000);
    });
    child.once('exit', () => {
      if (target.process !== child) return;
      target.process = undefined;
      (target as { pid: number | undefined }).pid = undefined;
    });
    return target;
  };
  for (const spec of specs) members.push(launch(spec));

  const stop = async (): Promise<void> => {
    for (const member of members) member.process?.kill('SIGKILL');
    await Promise.all(members.map((member) => member.exited));
    live.delete(cluster);
    rmSync(dataRoot, { recursive: true, force: true });
  };

  try {
    await waitHealthy(members, tls, options.startTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }

  const liveUrls = () => members.filter((m) => m.process).map((m) => m.clientUrl);
  const etcdctl = (args: readonly string[]) => runEtcdctl(liveUrls(), tls, args);
  return {
    endpoints: specs.map((s) => s.clientUrl),
    clientUrls: specs.map((s) => s.clientUrl),
    members,
    async kill(memberIndex: number): Promise<void> {
      const member = members[memberIndex];
      if (!member) throw new Error(`no member ${memberIndex}`);
      member.process?.kill('SIGKILL');
      await member.exited;
    },
    async restart(memberIndex: number): Promise<void> {
      const member = members[memberIndex];
      if (!member) throw new Error(`no member ${memberIndex}`);
      if (member.process) return;
      launch(specs[memberIndex]!, member);
      await waitHealthy([member], tls, options.startTimeoutMs ?? 20_000);
    },
    async leaderIndex(): Promise<number> {
      const text = (await etcdctl(['endpoint', 'status', '-w', 'json'])).toString();
      // Member ids are uint64: quote them before JSON.parse so no precision is lost.
      const statuses = JSON.parse(text.replace(/:(\d{10,})/g, ':"$1"')) as {
        Endpoint: string;
        Status: { header: { member_id: string }; leader: string };
      }[];
      for (const status of statuses) {
        if (status.Status.header.member_id === status.Status.leader) {
          const index = members.findIndex((m) => m.clientUrl === status.Endpoint);
          if (index >= 0) return index;
        }
      }
      throw new Error('no member reports itself as leader');
    },
    etcdctl,
    stop,
  };
}

/** Poll every member's /health until all say true, or fail at the deadline with their logs. */
async function waitHealthy(
  members: RunningMember[],
  tls: EtcdServerTls | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(members);
  while (pending.size > 0) {
    for (const member of [...pending]) {
      if (!member.process) {
        throw new Error(`etcd member ${member.name} exited during start:\n${member.output}`);
      }
      if (await isHealthy(member.clientUrl, tls)) pending.delete(member);
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const logs = [...pending].map((m) => `${m.name}: ${m.output}`).join('\n');
      throw new Error(`etcd did not become healthy within ${timeoutMs} ms\n${logs}`);
    }
    await delay(15); // between polls, bounded by the deadline above
  }
}

/** GET /health: true when the member has a leader and answers reads. */
function isHealthy(clientUrl: string, tls: EtcdServerTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const url = new URL('/health', clientUrl);
    const options = {
      timeout: 1000,
      ...(tls
        ? {
            ca: readFileSync(tls.caFile),
            cert: tls.clientCertFile ? readFileSync(tls.clientCertFile) : undefined,
            key: tls.clientKeyFile ? readFileSync(tls.clientKeyFile) : undefined,
          }
        : {}),
    };
    const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Run etcdctl (ETCDCTL_API=3) against `endpoints`; rejects with its stderr on failure. */
function runEtcdctl(
  endpoints: string[],
  tls: EtcdServerTls | undefined,
  args: readonly string[],
): Promise<Buffer> {
  const flags = [`--endpoints=${endpoints.join(',')}`, '--command-timeout=5s'];
  if (tls) {
    flags.push(`--cacert=${tls.caFile}`);
    if (tls.clientCertFile) flags.push(`--cert=${tls.clientCertFile}`);
    if (tls.clientKeyFile) flags.push(`--key=${tls.clientKeyFile}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn('etcdctl', [...flags, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`etcdctl ${args.join(' ')} exited ${code}: ${err.trim()}`)),
    );
  });
}
