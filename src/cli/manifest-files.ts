// The texts behind -f for the offline commands (validate, convert), which read every document
// on its own so that one bad document does not hide the problems of the others.
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { readManifestTexts, splitDocuments } from '../resources/index.js';

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

/** The texts of -f: stdin, one file, or a directory's manifest files (recursively with -R). */
export async function readSourceTexts(
  filename: string,
  recursive: boolean,
): Promise<{ texts: SourceText[]; isDirectory: boolean }> {
  try {
    const { type, texts } = await readManifestTexts(filename, { recursive });
    return { texts, isDirectory: type === 'directory' };
  } catch (err) {
    if (!isCidrpoolError(err, 'RES_MANIFEST_READ')) throw err;
    throw new CidrpoolError('CLI_USAGE', `failed to execute command: ${err.message}`, {
      cause: err,
    });
  }
}

/** Split a source into its documents (calicoctl's `---` rule), keeping line numbers. */
export function splitSource(source: SourceText): DocumentText[] {
  return splitDocuments(source.text).map((chunk, index) => {
    const linesBefore = source.text.slice(0, chunk.offset).split('\n').length - 1;
    return { source: source.name, number: index + 1, text: '\n'.repeat(linesBefore) + chunk.text };
  });
}
