// Where the embedded store lives by default. Its own module, free of `yaml`, so that the CNI
// plugin (which must start fast) and the CLI share one answer.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** The default data folder: `${XDG_DATA_HOME:-~/.local/share}/cidrpool`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.local', 'share');
  return join(base, 'cidrpool');
}

/** Expand a leading `~/` and make the path absolute. */
export function absolutePath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  if (path === '~' || path.startsWith('~/')) return join(env['HOME'] || homedir(), path.slice(1));
  return resolve(path);
}
