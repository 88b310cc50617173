// Shared pieces of the CLI spawn tests: run the real ./bin/cidrpool on a private data folder,
// compare with golden files, and normalise the values that change from run to run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { startEtcd, type EtcdCluster } from '../helpers/etcd-cluster.js';

/** The repository root (this file runs as dist/test/cli/support.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'cidrpool');
const GOLDEN_DIR = join(REPO_ROOT, 'test', 'fixtures', 'golden', 'cli');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A temp folder for one test: a data dir for the embedded store plus room for files. */
export interface Sandbox {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Run `cidrpool args...` with this sandbox's datastore; `input` goes to stdin. */
  run(
    args: readonly string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<CliRun>;
  /** Like run, but fail the test unless the exit code is 0; returns stdout. */
  ok(args: readonly string[], options?: { input?: string }): Promise<string>;
  /** Write a file in the sandbox; returns its path. */
  write(name: string, text: string): string;
  read(name: string): string;
  cleanup(): void;
}

/** Run the CLI with exactly `env` (no NODE_EXTRA_CA_CERTS: it slows every start, ENVIRONMENT.md). */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A sandbox whose store is the embedded one (or the `extraEnv` datastore, e.g. etcd). */
export function createSandbox(extraEnv: Record<string, string> = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'cidrpool-cli-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    CIDRPOOL_DATA_DIR: join(dir, 'data'),
    ...extraEnv,
  };
  const sandbox: Sandbox = {
    dir,
    env,
    run: (args, options = {}) => runCli(args, { ...env, ...(options.env ?? {}) }, options.input),
    ok: async (args, options = {}) => {
      const result = await runCli(args, env, options.input);
      assert.equal(
        result.code,
        0,
        `cidrpool ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`,
      );
      return result.stdout;
    },
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return sandbox;
}

/** A sandbox that lives as long as the suite (describe) that made it. */
export interface SuiteSandbox extends Sandbox {
  /** The etcd the sandbox's datastore is, with `etcd: true`. */
  readonly etcd: EtcdCluster;
}

/**
 * Register before/after hooks on the enclosing suite: before its tests a sandbox (on a fresh
 * single-member etcd with `etcd: true`, else the embedded store with `env` added) with `setup`
 * created in it when given; after them, the sandbox and the etcd removed. Returns the sandbox,
 * usable inside the suite's tests and hooks registered after this call.
 */
export function sandboxForSuite(
  options: { setup?: string; env?: Record<string, string>; etcd?: boolean } = {},
): SuiteSandbox {
  let current: Sandbox | undefined;
  let etcd: EtcdCluster | undefined;
  before(async () => {
    if (options.etcd) etcd = await startEtcd();
    current = createSandbox({
      ...options.env,
      ...(etcd && { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoints.join(',') }),
    });
    if (options.setup)
      await current.ok(['create', '-f', current.write('setup.yaml', options.setup)]);
  });
  after(async () => {
    current?.cleanup();
    await etcd?.stop();
  });
  const sb = (): Sandbox => {
    if (!current) throw new Error('the suite sandbox is made before the suite and removed after');
    return current;
  };
  return {
    get dir() {
      return sb().dir;
    },
    get env() {
      return sb().env;
    },
    get etcd() {
      if (!etcd) throw new Error('sandboxForSuite({ etcd: true }) has the etcd');
      return etcd;
    },
    run: (args, runOptions) => sb().run(args, runOptions),
    ok: (args, okOptions) => sb().ok(args, okOptions),
    write: (name, text) => sb().write(name, text),
    read: (name) => sb().read(name),
    cleanup: () => sb().cleanup(),
  };
}

/** Replace uids, timestamps, revisions and handles, which differ from run to run. */
export function normalize(text: string): string {
  return text
    .replace(/uid: [0-9a-f-]{36}/g, 'uid: <uid>')
    .replace(/"uid": "[0-9a-f-]{36}"/g, '"uid": "<uid>"')
    .replace(/creationTimestamp: "[^"]+"/g, 'creationTimestamp: <time>')
    .replace(/"creationTimestamp": "[^"]+"/g, '"creationTimestamp": "<time>"')
    .replace(/resourceVersion: "\d+"/g, 'resourceVersion: <rv>')
    .replace(/"resourceVersion": "\d+"/g, '"resourceVersion": "<rv>"');
}

/**
 * Compare with test/fixtures/golden/cli/<name>. With UPDATE_GOLDEN=1 the file is (re)written
 * instead, to review with git diff.
 */
export function assertGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.UPDATE_GOLDEN !== '1')
      assert.fail(`golden file ${name} is missing (run with UPDATE_GOLDEN=1)`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from golden ${name}`);
}

/** A sandbox on one datastore, and how to stop what it started. */
export interface StoreSandbox {
  readonly sb: Sandbox;
  stop(): Promise<void>;
}

/**
 * The datastores every seed how-to runs on: the embedded store, and a real single-member etcd
 * started for the test on a loopback port (chosen through DATASTORE_TYPE/ETCD_ENDPOINTS).
 */
export const DATASTORES: readonly { name: string; open(): Promise<StoreSandbox> }[] = [
  {
    name: 'embedded store',
    open: async () => ({ sb: createSandbox(), stop: async () => undefined }),
  },
  {
    name: 'etcd',
    open: async () => {
      const etcd = await startEtcd({ members: 1 });
      const sb = createSandbox({
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: etcd.endpoints.join(','),
      });
      return { sb, stop: () => etcd.stop() };
    },
  },
];
