// Reading manifests from `-f`: stdin (`-`), one file, or a directory of *.yaml/*.yml/*.json
// files (extension case-insensitive) in lexical walk order, recursively with -R (surfaces.md §1.3).
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CidrpoolError, fileErrorMessage } from '../../errors/index.js';
import { readManifests, type ManifestResource } from './read-manifests.js';

export interface ManifestSourceOptions {
  /** Walk subdirectories too (-R). */
  readonly recursive?: boolean;
  /** Where `-` reads from (default: process.stdin). */
  readonly stdin?: AsyncIterable<string | Buffer>;
}

export interface ManifestSource {
  readonly type: 'stdin' | 'file' | 'directory';
  /** The path as given (`-` for stdin). */
  readonly path: string;
  /** The files read, in order (`-` for stdin). */
  readonly files: readonly string[];
  /** Every resource, in file and document order (empty when the input holds none). */
  readonly resources: readonly ManifestResource[];
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function readError(path: string, err: unknown): CidrpoolError {
  return new CidrpoolError('RES_MANIFEST_READ', fileErrorMessage('open', path, err), {
    cause: err,
  });
}

async function listFiles(dir: string, recursive: boolean): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    byCodeUnits(a.name, b.name),
  );
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) files.push(...(await listFiles(path, true)));
    } else if (MANIFEST_FILE.test(entry.name)) files.push(path);
  }
  return files;
}

/** The most one manifest input may hold: beyond it (`-f /dev/zero`, a wrong file) it is refused. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** Read `input` whole, or throw RES_MANIFEST_READ once it passes MAX_MANIFEST_BYTES. */
async function readAll(input: AsyncIterable<string | Buffer>, name: string): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of input) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    size += bytes.length;
    if (size > MAX_MANIFEST_BYTES) {
      throw new CidrpoolError(
        'RES_MANIFEST_READ',
        `${name === '-' ? 'standard input' : name} holds more than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB: a manifest file is at most that large (split it, or check the path)`,
      );
    }
    parts.push(bytes);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The text of one manifest file (`-` for stdin). */
export interface ManifestText {
  readonly name: string;
  readonly text: string;
}

/**
 * The texts behind `-f`: stdin, one file, or a directory's manifest files (lexical order,
 * recursively with -R). Throws RES_MANIFEST_READ (missing or unreadable path) in Go's wording.
 */
export async function readManifestTexts(
  pathOrDash: string,
  options: ManifestSourceOptions = {},
): Promise<{ type: ManifestSource['type']; texts: ManifestText[] }> {
  if (pathOrDash === '-') {
    return {
      type: 'stdin',
      texts: [{ name: '-', text: await readAll(options.stdin ?? process.stdin, '-') }],
    };
  }
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(pathOrDash)).isDirectory();
  } catch (err) {
    throw readError(pathOrDash, err);
  }
  const files = isDirectory
    ? await listFiles(pathOrDash, options.recursive ?? false)
    : [pathOrDash];
  const texts: ManifestText[] = [];
  for (const file of files) {
    try {
      texts.push({ name: file, text: await readAll(createReadStream(file), file) });
    } catch (err) {
      if (err instanceof CidrpoolError) throw err;
      throw readError(file, err);
    }
  }
  return { type: isDirectory ? 'directory' : 'file', texts };
}

/**
 * Read every resource from `-` (stdin), a file, or a directory. Every file is parsed before this
 * returns, so a caller acts on nothing when any file is bad. Throws RES_MANIFEST_READ (missing or
 * unreadable path), and the codes of readManifests.
 */
export async function readManifestSource(
  pathOrDash: string,
  options: ManifestSourceOptions = {},
): Promise<ManifestSource> {
  const { type, texts } = await readManifestTexts(pathOrDash, options);
  const resources = texts.flatMap(({ name, text }) => readManifests(text, name));
  return { type, path: pathOrDash, files: texts.map((t) => t.name), resources };
}
