// `npm run build:web`: the dashboard's page (web/) bundled by esbuild into dist/web: app.js (one
// minified script, preact included), app.css and index.html. Nothing is fetched at run time.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/web');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'web/main.tsx')],
  absWorkingDir: root,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // Browsers of the last few years: Chromium and Firefox both run it as written.
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
for (const name of ['index.html', 'app.css'])
  copyFileSync(join(root, 'web', name), join(out, name));
