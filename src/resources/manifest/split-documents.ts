// calicoctl's document splitting (surfaces.md §1.3): a new document starts at every line that
// begins with `---`, and the rest of that line is discarded. Done by hand rather than by the YAML
// parser because YAML only honours `---` followed by a space or a line end.

export interface DocumentChunk {
  /** The document text, without its separator line. */
  readonly text: string;
  /** Offset of `text` in the whole source. */
  readonly offset: number;
}

/** Cut `source` into documents at lines starting with `---`. Empty documents are kept. */
export function splitDocuments(source: string): DocumentChunk[] {
  const chunks: DocumentChunk[] = [];
  let start = 0;
  let lineStart = 0;
  while (lineStart <= source.length) {
    const newline = source.indexOf('\n', lineStart);
    const lineEnd = newline < 0 ? source.length : newline + 1;
    if (source.startsWith('---', lineStart)) {
      chunks.push({ text: source.slice(start, lineStart), offset: start });
      start = lineEnd;
    }
    if (newline < 0) break;
    lineStart = lineEnd;
  }
  chunks.push({ text: source.slice(start), offset: start });
  return chunks;
}
