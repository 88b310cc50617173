// The training run of `npm run build:cni` (scripts/build-cni.mjs starts it in a child process
// without NODE_OPTIONS, with the output folder and a bundle name): compile dist/cni/<name>.js as
// bin/cni-bundle.js does, run the plugin's calls through its own runCall on an embedded store in
// a temporary folder (one pool and one node, created with the CLI of dist/src), then write V8's
// code cache of everything those calls compiled to dist/cni/<name>.js.cache, in the format
// bin/cni-bundle.js reads: MAGIC, the script's byte length (u32 LE), the script's bytes, the byte
// length of the cache made after VERSION alone (u32 LE), that cache, then the cache made after
// all calls.
//
// cidrpool-ipam (`plugin`) runs VERSION, ADD, CHECK, DEL, DEL and a configuration error (through
// the node agent the plugin runs the thin entry, dist/cni/ipam-thin.js, which has no cache).
// cidrpool-cni (`pod-plugin`) runs VERSION, DEL (no namespace: no kernel change; the IPAM DEL
// goes to bin/cidrpool-ipam), CHECK without prevResult and a configuration error: its ADD and
// CHECK change or read network interfaces, which a build must not touch, so their wiring code is
// compiled at run time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** Must stay bin/cni-bundle.js's MAGIC. */
const MAGIC = 'cidrpool CNI code cache 1\n';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2] ?? join(root, 'dist/cni');
const name = process.argv[3] ?? 'plugin';
const file = `${dir}/${name}.js`;
const source = readFileSync(file);
const script = new Script(source.toString('utf8'), { filename: file });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
const runCall = module.exports.runCall ?? module.exports.runPodCall;

const work = mkdtempSync(join(tmpdir(), 'cidrpool-cni-cache-'));
try {
  const dataDir = join(work, 'store');
  const poolFile = join(work, 'pool.yaml');
  writeFileSync(
    poolFile,
    'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: training\n' +
      'spec:\n  cidr: 10.255.0.0/24\n---\n' +
      'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: training-node\n',
  );
  // A config file (read alone, as calicoctl's -c): a datastore set in the environment or in
  // /etc/calico/calicoctl.cfg must never be the one seeded.
  const configFile = join(work, 'calicoctl.cfg');
  writeFileSync(
    configFile,
    'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\n' +
      `spec:\n  datastoreType: embedded\n  dataDir: ${JSON.stringify(dataDir)}\n`,
  );
  const seeded = spawnSync(
    process.execPath,
    [join(root, 'bin/cidrpool'), 'create', '-c', configFile, '-f', poolFile],
    { env: { PATH: process.env.PATH, HOME: work }, encoding: 'utf8' },
  );
  if (seeded.status !== 0) throw new Error(`seeding the training store failed: ${seeded.stderr}`);

  const conf = {
    cniVersion: '1.0.0',
    name: 'training',
    ...(name === 'pod-plugin' ? { type: 'cidrpool-cni' } : {}),
    nodename: 'training-node',
    // Never an agent that may run on the build machine: the calls must train the direct path.
    agent_socket: 'none',
    datastore_type: 'embedded',
    data_dir: dataDir,
    ipam: { type: 'cidrpool-ipam' },
  };
  const env = (command) => ({
    PATH: process.env.PATH,
    HOME: work,
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'training-1',
    CNI_IFNAME: 'eth0',
    // The pod plugin's DEL without a namespace touches no interface.
    ...(name === 'pod-plugin' && command === 'DEL' ? {} : { CNI_NETNS: '/var/run/netns/training' }),
    CNI_PATH: name === 'pod-plugin' ? join(root, 'bin') : '/usr/lib/cni',
  });
  const call = async (command, config, exitCode = 0) => {
    const outcome = await runCall(env(command), () =>
      typeof config === 'string' ? config : JSON.stringify(config),
    );
    if (outcome.exitCode !== exitCode)
      throw new Error(`training ${command} exited ${outcome.exitCode}: ${outcome.stdout}`);
    return outcome.stdout;
  };
  await call('VERSION', conf);
  const versionCache = script.createCachedData();
  if (name === 'pod-plugin') {
    await call('DEL', conf);
    await call('DEL', conf);
    await call('CHECK', conf, 1);
  } else {
    const result = JSON.parse(await call('ADD', conf));
    await call('CHECK', { ...conf, prevResult: result });
    await call('DEL', conf);
    await call('DEL', conf);
  }
  await call('ADD', '{"cniVersion":', 1);

  const fullCache = script.createCachedData();
  const u32 = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  writeFileSync(
    `${file}.cache`,
    Buffer.concat([
      Buffer.from(MAGIC, 'latin1'),
      u32(source.length),
      source,
      u32(versionCache.length),
      versionCache,
      fullCache,
    ]),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
// An etcd or SQLite handle must not keep the build waiting.
process.exit(0);
