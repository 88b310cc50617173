// The texts behind -f for the offline commands (validate, convert), which read every document
// on its own so that one bad document does not hide the problems of the others.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CidrpoolError } from '../errors/index.js';
import { fileErrorMessage } from './fs-errors.js';
import { splitDocuments } from '../resources/manifest/split-documents.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface SourceText {
  /** The path, or `-` for stdin. */
  readonly name: string;
  readonly text: string;
}

export interface DocumentText {
  readonly source: string;
  /** 1-based document number within its source. */
  readonly number: number;
  /** The document, preceded by as many newlines as lines before it, so positions stay right. */
  readonly text: string;
}

async function listFiles(dir: string, recursive: boolean): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
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

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin)
    parts.push(typeof part === 'string' ? Buffer.from(part) : part);
  return Buffer.concat(parts).toString('utf8');
}

/** The texts of -f: stdin, one file, or a directory's manifest files (recursively with -R). */
export async function readSourceTexts(
  filename: string,
  recursive: boolean,
): Promise<{ texts: SourceText[]; isDirectory: boolean }> {
  if (filename === '-')
    return { texts: [{ name: '-', text: await readStdin() }], isDirectory: false };
  try {
    const isDirectory = (await stat(filename)).isDirectory();
    const files = isDirectory ? await listFiles(filename, recursive) : [filename];
    const texts: SourceText[] = [];
    for (const file of files) texts.push({ name: file, text: await readFile(file, 'utf8') });
    return { texts, isDirectory };
  } catch (err) {
    const message = fileErrorMessage('open', filename, err);
    throw new CidrpoolError('CLI_USAGE', `failed to execute command: ${message}`, { cause: err });
  }
}

/** Split a source into its documents (calicoctl's `---` rule), keeping line numbers. */
export function splitSource(source: SourceText): DocumentText[] {
  return splitDocuments(source.text).map((chunk, index) => {
    const linesBefore = source.text.slice(0, chunk.offset).split('\n').length - 1;
    return { source: source.name, number: index + 1, text: '\n'.repeat(linesBefore) + chunk.text };
  });
}
