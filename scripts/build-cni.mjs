// `npm run build:cni`: each CNI plugin as one script plus a V8 code cache (docs/cni.md "Start-up
// cost"). Run after tsc (the training below seeds its store with the CLI of dist/src).
//
// For each plugin of BUNDLES (cidrpool-ipam: `ipam-thin` then `plugin`, cidrpool-cni:
// `pod-plugin`):
// dist/cni/<name>.js  esbuild's CommonJS bundle of its main.ts (better-sqlite3's JavaScript
//                     included; etcd3, yaml and better-sqlite3's `bindings` fallback stay
//                     external, required only when a call needs them), wrapped in a function
//                     expression: bin/cni-bundle.js compiles it with vm.Script and calls it.
// dist/cni/<name>.js.cache
//                     A copy of the script (the plugin uses the cache only when it is byte for
//                     byte the script it compiles: V8 itself checks only the length) and two V8
//                     code caches of it, made by a training run in a child process
//                     (scripts/build-cni-cache.mjs): one after VERSION (small: what a VERSION
//                     call runs), one after the plugin's other calls (the functions those calls
//                     compile, not only the top level).
// dist/cni/<name>.meta.json
//                     esbuild's metafile (which source modules are in the bundle).
// `ipam-thin` (src/cni/thin-main.ts: hands the call to the node agent, else runs `plugin`) is a
// few kB of node:net and JSON: it has no cache (compiling it costs less than reading one).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/cni');

/** The plugins: bundle name (dist/cni/<name>.js), entry point, and the bin that runs it. */
const BUNDLES = [
  { name: 'ipam-thin', entry: 'src/cni/thin-main.ts', bin: 'bin/cidrpool-ipam', cached: false },
  { name: 'plugin', entry: 'src/cni/main.ts', bin: 'bin/cidrpool-ipam' },
  { name: 'pod-plugin', entry: 'src/cni/pod/main.ts', bin: 'bin/cidrpool-cni' },
];

/**
 * The bundle becomes a function expression: bin/cni-bundle.js (and the training run) call what
 * it evaluates to with these five arguments, as Node's CommonJS loader would. Its first line.
 */
const HEAD = '(function (exports, require, module, __filename, __dirname) {';
const TAIL = '\n})\n';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// In order: the pod plugin's training runs bin/cidrpool-ipam, which needs the first two bundles.
for (const bundle of BUNDLES) {
  await buildBundle(bundle);
  if (bundle.cached !== false) train(bundle);
}

/** Write dist/cni/<name>.js and its metafile. */
async function buildBundle({ name, entry, bin }) {
  const result = await build({
    entryPoints: [join(root, entry)],
    absWorkingDir: root,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Every import() becomes a require() in a promise: no ES module loader at run time.
    supported: { 'dynamic-import': false },
    external: ['etcd3', 'yaml', 'bindings'],
    // import.meta.url (package.json, better-sqlite3's addon path) is this script's own URL.
    define: { 'import.meta.url': '__cidrpool_plugin_url' },
    banner: {
      js: `${HEAD} 'use strict'; // run by ${bin} (scripts/build-cni.mjs)\nconst __cidrpool_plugin_url = require("node:url").pathToFileURL(__filename).href;`,
    },
    footer: { js: TAIL },
    sourcemap: true,
    metafile: true,
    outfile: join(out, `${name}.js`),
    logLevel: 'warning',
    write: false,
  });
  for (const output of result.outputFiles) {
    // esbuild escapes non-ASCII text in strings and regular expressions but not in comments; with
    // none left the script is a one-byte string for V8 (half the memory, faster to hash and read).
    // \uXXXX means the same code unit anywhere in JavaScript, comments included.
    const text = output.path.endsWith('.js')
      ? output.text.replace(
          /[^\0-\x7f]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        )
      : output.text;
    writeFileSync(output.path, text);
  }
  writeFileSync(join(out, `${name}.meta.json`), JSON.stringify(result.metafile));
}

/**
 * The training run: a child without NODE_OPTIONS or flags (V8 rejects a cache made under other
 * flags), seeded store in a temporary folder.
 */
function train({ name }) {
  const run = spawnSync(process.execPath, [join(root, 'scripts/build-cni-cache.mjs'), out, name], {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS')),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) {
    console.error(`build-cni: the code cache training run of ${name} failed (exit ${run.status})`);
    process.exit(1);
  }
}
