// Runs one of the CNI plugins' bundles (bin/cidrpool-ipam, bin/cidrpool-cni): loading only. A
// pod start waits on these processes, so each runs one script, dist/cni/<name>.js (a bundle that
// `npm run build:cni` writes: a function expression), compiled with V8's code cache
// dist/cni/<name>.js.cache when that cache was made from these very bytes: most of what the call
// runs is then deserialized, not parsed and compiled (docs/cni.md "Start-up cost").
// CommonJS (bin/package.json): an ES module entry starts Node's ES module loader, ~3 ms of CPU
// per plugin call, and the loaders here need nothing of it.
const { readFileSync } = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const { join } = process.getBuiltinModule('node:path');
const { Script } = process.getBuiltinModule('node:vm');

/** How the cache file starts (its format: scripts/build-cni-cache.mjs). */
const MAGIC = 'cidrpool CNI code cache 1\n';

/** Compile dist/cni/`name`.js (with its cache when it fits) and call its `main` with `input`. */
function runBundle(name, input) {
  const dir = join(__dirname, '../dist/cni');
  const file = `${dir}/${name}.js`;
  const source = readFileSync(file);
  let cachedData;
  try {
    const cache = readFileSync(`${file}.cache`);
    const start = MAGIC.length + 4;
    if (
      cache.toString('latin1', 0, MAGIC.length) === MAGIC &&
      cache.readUInt32LE(MAGIC.length) === source.length &&
      source.equals(cache.subarray(start, start + source.length))
    ) {
      // A small cache for VERSION (the full one costs more to deserialize than VERSION runs).
      const at = start + source.length;
      const small = cache.readUInt32LE(at);
      cachedData =
        process.env.CNI_COMMAND === 'VERSION'
          ? cache.subarray(at + 4, at + 4 + small)
          : cache.subarray(at + 4 + small);
    }
  } catch {
    // No cache (or unreadable): compile from source, as slow as without one.
  }
  // V8 also ignores a cache made by another V8 version or under other V8 flags.
  const script = new Script(source.toString('utf8'), { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
  return module.exports.main(input);
}

module.exports = { runBundle };
