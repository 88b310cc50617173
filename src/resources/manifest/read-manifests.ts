// Reading resources from manifest text: multi-document YAML or JSON; each document one object,
// an array of objects, or a typed List (`IPPoolList`). Strict: unknown fields, wrong types and
// unknown kinds abort the read with a line:column and a caret excerpt (surfaces.md §1.3).
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import {
  caretExcerpt,
  CidrpoolError,
  type ErrorCode,
  type SourcePosition,
} from '../../errors/index.js';
import { copyWithoutNulls } from '../defaults.js';
import { LIST_SHAPE, shapeOfKind, V1_IPPOOL_SHAPE } from '../schema/kinds.js';
import { checkShape, isPlainObject, type PathSegment, type ShapeIssue } from '../schema/shape.js';
import { API_VERSION_V3, KINDS, type Resource } from '../types.js';
import { convertV1IpPool, V1_API_VERSION, V1_IPPOOL_KIND, type V1IpPool } from '../v1-ip-pool.js';
import { isResourceKind, unknownTypeMessage } from '../validate.js';
import { splitDocuments } from './split-documents.js';

/** One resource read from a manifest, with where it came from. */
export interface ManifestResource {
  /** The v3 resource as written (not defaulted); v1 `ipPool`s arrive converted. */
  readonly resource: Resource;
  /** The source name given to readManifests (a path, or `-` for stdin). */
  readonly source: string;
  /** 1-based number of the document within the source. */
  readonly document: number;
  /** Where the resource's object starts. */
  readonly position: SourcePosition;
  /** Set when the resource was converted from another apiVersion. */
  readonly convertedFrom?: 'v1';
}

const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
const LIST_KINDS = new Map(Object.values(KINDS).map((info) => [info.listKind, info.kind]));

/** Offsets -> 1-based line/column over the whole source (yaml's LineCounter). */
function lineCounterOf(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) counter.addNewLine(i + 1);
  return counter;
}

interface DocumentContext {
  readonly text: string;
  readonly source: string;
  readonly lines: LineCounter;
  readonly doc: Document.Parsed;
  readonly offset: number;
  readonly number: number;
}

function positionIn(lines: LineCounter, offset: number): SourcePosition {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

const positionAt = (ctx: DocumentContext, offset: number): SourcePosition =>
  positionIn(ctx.lines, ctx.offset + offset);

/** Start offset of the node at `segments`; with `key`, of the map key naming the last segment. */
function offsetOf(ctx: DocumentContext, segments: readonly PathSegment[], key = false): number {
  for (let n = segments.length; n >= 0; n--) {
    const path = segments.slice(0, n);
    if (key && n === segments.length && n > 0) {
      const parent = ctx.doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find(
          (p) => isScalar(p.key) && String(p.key.value) === String(path[n - 1]),
        );
        const start = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
        if (start !== undefined) return start;
      }
      continue;
    }
    const node = n === 0 ? ctx.doc.contents : ctx.doc.getIn(path, true);
    const start = (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
    if (start !== undefined) return start;
  }
  return 0;
}

function fail(
  ctx: DocumentContext,
  code: ErrorCode,
  message: string,
  offset: number,
  issues: readonly ShapeIssue[] = [],
): never {
  const position = positionAt(ctx, offset);
  throw new CidrpoolError(code, `${message} (${ctx.source}:${position.line}:${position.column})`, {
    position,
    excerpt: caretExcerpt(ctx.text, position.line, position.column),
    issues: issues.map(({ path, value, message: m, hint }) => ({ path, value, message: m, hint })),
    details: { source: ctx.source, document: ctx.number },
  });
}

/** Throw for the first structural issue, listing all of them. */
function failOnShape(ctx: DocumentContext, issues: ShapeIssue[]): void {
  const first = issues[0];
  if (!first) return;
  const offset = offsetOf(ctx, first.segments, first.unknownField);
  if (first.unknownField) fail(ctx, 'RES_UNKNOWN_FIELD', first.message, offset, issues);
  fail(ctx, 'RES_INVALID', `${first.path}: ${first.message}`, offset, issues);
}

function readObject(
  ctx: DocumentContext,
  value: unknown,
  at: readonly PathSegment[],
): ManifestResource {
  const position = positionAt(ctx, offsetOf(ctx, at));
  const base = { source: ctx.source, document: ctx.number, position };
  const kind = isPlainObject(value) ? value.kind : undefined;
  const apiVersion = isPlainObject(value) ? value.apiVersion : undefined;
  const kindOffset = offsetOf(ctx, [...at, 'kind']);
  if (kind === V1_IPPOOL_KIND && apiVersion === V1_API_VERSION) {
    const issues = checkShape(value, V1_IPPOOL_SHAPE, at);
    failOnShape(ctx, issues);
    try {
      const resource = convertV1IpPool(copyWithoutNulls(value) as unknown as V1IpPool);
      return { ...base, resource, convertedFrom: 'v1' };
    } catch (err) {
      if (!(err instanceof CidrpoolError)) throw err;
      const first = err.issues[0];
      const segments = first ? [...at, ...first.path.split('.')] : at;
      fail(
        ctx,
        'RES_INVALID',
        err.message,
        offsetOf(ctx, segments),
        err.issues.map((i) => ({ ...i, segments })),
      );
    }
  }
  if (!isResourceKind(kind) || apiVersion !== API_VERSION_V3) {
    fail(ctx, 'RES_UNKNOWN_KIND', unknownTypeMessage(kind, apiVersion), kindOffset);
  }
  failOnShape(ctx, checkShape(value, shapeOfKind(kind), at));
  return { ...base, resource: copyWithoutNulls(value) as unknown as Resource };
}

/**
 * A `__proto__` key anywhere (a label, an annotation, a field) is refused before the document
 * becomes objects: JavaScript would drop it silently or, worse, take it for a prototype.
 */
function refuseProtoKeys(ctx: DocumentContext): void {
  visit(ctx.doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '__proto__') {
        const start = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
        fail(
          ctx,
          'RES_UNKNOWN_FIELD',
          'field in document is not recognized or is in the wrong location: __proto__',
          start,
        );
      }
    },
  });
}

function readDocument(ctx: DocumentContext): ManifestResource[] {
  refuseProtoKeys(ctx);
  const value: unknown = ctx.doc.toJS({ maxAliasCount: 1000 });
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((item, i) => readObject(ctx, item, [i]));
  if (isPlainObject(value)) {
    const listOf = typeof value.kind === 'string' ? LIST_KINDS.get(value.kind) : undefined;
    // A v3 document with `items` and no kind is also read as a List: the Calico docs print
    // `calicoctl get -o yaml` output that way, and users save and re-apply it (a deviation:
    // calicoctl itself rejects it as an unknown type).
    const kindlessList = value.kind === undefined && Array.isArray(value.items);
    if ((listOf || kindlessList) && value.apiVersion === API_VERSION_V3) {
      failOnShape(ctx, checkShape(value, LIST_SHAPE));
      return ((value.items as unknown[] | null) ?? []).map((item, i) =>
        readObject(ctx, item, ['items', i]),
      );
    }
  }
  return [readObject(ctx, value, [])];
}

/**
 * Every resource in `text`, in document order. Documents are split at lines starting with
 * `---`; a document is one object, an array of objects, or a typed List; empty documents give
 * nothing. v1 `ipPool`s are converted to v3. Nothing is defaulted or validated beyond structure.
 * Throws (at the first problem, with position, caret excerpt and the document's issues):
 * RES_MANIFEST_SYNTAX (bad YAML/JSON, document over 10 MiB), RES_UNKNOWN_KIND,
 * RES_UNKNOWN_FIELD, RES_INVALID (wrong type or enum value; v1 load rules).
 */
export function readManifests(text: string, sourceName: string): ManifestResource[] {
  const lines = lineCounterOf(text);
  const out: ManifestResource[] = [];
  splitDocuments(text).forEach((chunk, index) => {
    if (Buffer.byteLength(chunk.text) > MAX_DOCUMENT_BYTES) {
      const position = positionIn(lines, chunk.offset);
      throw new CidrpoolError(
        'RES_MANIFEST_SYNTAX',
        `document ${index + 1} is larger than the 10 MiB limit (${sourceName}:${position.line}:${position.column})`,
        { position, details: { source: sourceName, document: index + 1 } },
      );
    }
    const doc = parseDocument(chunk.text, { uniqueKeys: true, prettyErrors: false });
    const ctx: DocumentContext = {
      text,
      source: sourceName,
      lines,
      doc,
      offset: chunk.offset,
      number: index + 1,
    };
    const error = doc.errors[0];
    if (error) {
      fail(
        ctx,
        'RES_MANIFEST_SYNTAX',
        `error parsing document: ${error.message.split('\n')[0]}`,
        error.pos[0],
      );
    }
    out.push(...readDocument(ctx));
  });
  return out;
}
