// `get -o go-template=...`: the part of Go's text/template that calicoctl templates use
// (surfaces.md §1.6). Field names are Go struct names (`.ObjectMeta.Name`, `.Spec.CIDR`,
// `.Items`), resolved against the JSON form of each object; the data is the result slice.
// Supported: text, `{{.A.B}}`, `{{.}}`, `{{$}}`, variables, `range`/`if`/`with` (with `else`),
// `end`, pipes, comments, `{{-`/`-}}` trimming, and the functions calicoctl adds (`join`,
// `joinAndTruncate`, `config`) plus `len`, `index`, `printf`, `eq`, `ne`, `not`, `and`, `or`.
import { CidrpoolError } from '../../errors/index.js';
import { schemaFieldNames } from '../../resources/index.js';

type Value = unknown;

interface TextNode {
  readonly type: 'text';
  readonly text: string;
}
interface ActionNode {
  readonly type: 'action';
  readonly pipe: Pipe;
}
interface BlockNode {
  readonly type: 'range' | 'if' | 'with';
  readonly pipe: Pipe;
  readonly body: Node[];
  elseBody: Node[];
}
type Node = TextNode | ActionNode | BlockNode;

/** `$a, $b := cmd | cmd`. */
interface Pipe {
  readonly decl: string[];
  readonly cmds: string[][];
}

// Go fields that are plain bools or ints: absent from the JSON (omitempty) but printed as zero.
const BOOL_FIELDS = new Set([
  'natoutgoing',
  'disabled',
  'disablebgpexport',
  'strictaffinity',
  'autoallocateblocks',
]);
const INT_FIELDS = new Set(['blocksize', 'maxblocksperhost', 'ipcooldownseconds']);
// Go slices and pointers that JSON omits when empty or nil: they print `[]` and `<nil>`.
const SLICE_FIELDS = new Set(
  [
    'allowedUses',
    'reservedCIDRs',
    'ipNetworks',
    'ipNATs',
    'profiles',
    'ports',
    'allowSpoofedSourcePrefixes',
    'orchRefs',
    'addresses',
    'finalizers',
    'ownerReferences',
    'conditions',
  ].map((f) => f.toLowerCase()),
);
const POINTER_FIELDS = new Set([
  'bgp',
  'wireguard',
  'asnumber',
  'deletiontimestamp',
  'deletiongraceperiodseconds',
  'kubevirtvmaddresspersistence',
]);
// Go maps (printed `map[k:v]`, keys looked up exactly, a missing key prints `<no value>`).
const MAP_FIELDS = new Set(['labels', 'annotations']);

// Every Go field of the resources (JSON may omit one; it is still a field, not an error).
const KNOWN_FIELDS = schemaFieldNames();

/** A JSON value plus whether Go would see it as a map. */
class GoMap {
  constructor(readonly entries: Record<string, unknown>) {}
}

const fail = (message: string): never => {
  throw new CidrpoolError('CLI_OUTPUT_FORMAT', `template: ${message}`);
};

/** Split into text and `{{ }}` actions, applying the trim markers. */
function lex(source: string): { text?: string; action?: string }[] {
  const parts: { text?: string; action?: string }[] = [];
  let rest = source;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      parts.push({ text: rest });
      break;
    }
    let text = rest.slice(0, open);
    let inner = rest.slice(open + 2);
    if (/^- /.test(inner) || inner.startsWith('-\n') || inner.startsWith('-\t')) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    const close = inner.indexOf('}}');
    if (close < 0) fail('unclosed action');
    let action = inner.slice(0, close);
    rest = inner.slice(close + 2);
    if (/\s-$/.test(action)) {
      action = action.slice(0, -1);
      rest = rest.replace(/^\s+/, '');
    }
    if (text !== '') parts.push({ text });
    parts.push({ action: action.trim() });
  }
  return parts;
}

/** Words of an action: strings, raw strings and parenthesis-free tokens. */
function tokenize(action: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|\||,|[^\s|,"`]+)/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = re.exec(action)) !== null) {
    tokens.push(match[1]!);
    end = re.lastIndex;
  }
  if (action.slice(end).trim() !== '') fail(`cannot parse "${action}"`);
  return tokens;
}

function parsePipe(tokens: string[]): Pipe {
  const decl: string[] = [];
  const assign = tokens.indexOf(':=');
  let rest = tokens;
  if (assign >= 0) {
    decl.push(...tokens.slice(0, assign).filter((t) => t !== ','));
    rest = tokens.slice(assign + 1);
  }
  const cmds: string[][] = [[]];
  for (const token of rest) {
    if (token === '|') cmds.push([]);
    else cmds[cmds.length - 1]!.push(token);
  }
  if (cmds.some((c) => c.length === 0)) fail('missing command in pipeline');
  return { decl, cmds };
}

function parse(source: string): Node[] {
  const root: Node[] = [];
  const stack: { block?: BlockNode; nodes: Node[] }[] = [{ nodes: root }];
  for (const part of lex(source)) {
    const top = stack[stack.length - 1]!;
    if (part.text !== undefined) {
      top.nodes.push({ type: 'text', text: part.text });
      continue;
    }
    const action = part.action!;
    if (action.startsWith('/*')) continue;
    const tokens = tokenize(action);
    const word = tokens[0];
    if (word === 'range' || word === 'if' || word === 'with') {
      const block: BlockNode = {
        type: word,
        pipe: parsePipe(tokens.slice(1)),
        body: [],
        elseBody: [],
      };
      top.nodes.push(block);
      stack.push({ block, nodes: block.body });
    } else if (word === 'else') {
      if (!top.block) fail('unexpected {{else}}');
      top.nodes = top.block!.elseBody;
      if (tokens[1] === 'if') {
        // `else if X` is `else` + a nested if that shares the same `end`.
        const nested: BlockNode = {
          type: 'if',
          pipe: parsePipe(tokens.slice(2)),
          body: [],
          elseBody: [],
        };
        top.nodes.push(nested);
        top.nodes = nested.body;
        top.block = nested;
      }
    } else if (word === 'end') {
      if (stack.length === 1) fail('unexpected {{end}}');
      stack.pop();
    } else {
      top.nodes.push({ type: 'action', pipe: parsePipe(tokens) });
    }
  }
  if (stack.length > 1) fail('unexpected EOF');
  return root;
}

/** Go's %v of a value. */
function show(value: Value): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (value instanceof GoMap) {
    const keys = Object.keys(value.entries).sort();
    return `map[${keys.map((k) => `${k}:${show(value.entries[k])}`).join(' ')}]`;
  }
  if (Array.isArray(value)) return `[${value.map(show).join(' ')}]`;
  if (typeof value === 'object') return `{${Object.values(value).map(show).join(' ')}}`;
  return String(value);
}

function truthy(value: Value): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '')
    return false;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof GoMap) return Object.keys(value.entries).length > 0;
  return true;
}

/** One Go field (or map key) of a JSON value. */
function field(value: Value, name: string): Value {
  if (value instanceof GoMap) return value.entries[name];
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return fail(`can't evaluate field ${name} in type ${Array.isArray(value) ? 'slice' : 'value'}`);
  const object = value as Record<string, unknown>;
  const type = typeof object.kind === 'string' ? object.kind : 'struct';
  // Go templates see exported struct fields only: `.metadata.name` is kubectl's, not calicoctl's.
  if (!/^[A-Z]/.test(name))
    return fail(`can't evaluate field ${name} in type ${type} (use Go names: .ObjectMeta.Name)`);
  if (name === 'TypeMeta') return object;
  if (name === 'ObjectMeta' || name === 'ListMeta') return object.metadata ?? {};
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  const found = key === undefined ? undefined : object[key];
  if (MAP_FIELDS.has(lower)) return new GoMap((found ?? {}) as Record<string, unknown>);
  if (lower === 'creationtimestamp' && typeof found === 'string') return goTime(found);
  if (found !== undefined) return found;
  if (BOOL_FIELDS.has(lower)) return false;
  if (INT_FIELDS.has(lower)) return 0;
  if (SLICE_FIELDS.has(lower)) return [];
  if (POINTER_FIELDS.has(lower)) return null;
  if (!KNOWN_FIELDS.has(lower)) return fail(`can't evaluate field ${name} in type ${type}`);
  return '';
}

/** metav1.Time as Go's %v prints it: `2026-01-02 03:04:05 +0000 UTC` (JSON has RFC 3339). */
function goTime(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(text);
  if (!m) return text;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${fraction === '.' ? '' : fraction} +0000 UTC`;
}

const items = (value: Value): Value[] =>
  Array.isArray(value)
    ? value
    : value instanceof GoMap
      ? Object.keys(value.entries)
          .sort()
          .map((k) => value.entries[k])
      : value === null || value === undefined
        ? []
        : fail(`range can't iterate over ${show(value)}`);

function join(value: Value, sep: string): string {
  if (value instanceof GoMap) {
    return Object.keys(value.entries)
      .sort()
      .map((k) => `${k}=${show(value.entries[k])}`)
      .join(sep);
  }
  return items(value).map(show).join(sep);
}

function printf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%[-+# 0-9.]*([svdtq%])/g, (spec, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[i++];
    return verb === 'q' ? JSON.stringify(show(arg)) : show(arg);
  });
}

interface Scope {
  readonly dot: Value;
  readonly vars: Map<string, Value>;
  /** The global AS number calicoctl's `config "asnumber"` returns. */
  readonly asNumber: string;
}

const FUNCTIONS: Record<string, (args: Value[], scope: Scope) => Value> = {
  join: ([v, sep]) => join(v, String(sep ?? '')),
  joinAndTruncate: ([v, sep, max]) => {
    const s = join(v, String(sep ?? ''));
    const n = Number(max);
    return n > 0 && s.length > n ? `${s.slice(0, n - 3)}...` : s;
  },
  // The global AS number (BGPConfiguration `default`, else 64512); calicoctl knows no other key.
  config: ([name], scope) => (String(name).toLowerCase() === 'asnumber' ? scope.asNumber : ''),
  len: ([v]) =>
    typeof v === 'string'
      ? v.length
      : v instanceof GoMap
        ? Object.keys(v.entries).length
        : items(v).length,
  index: ([v, ...keys]) =>
    keys.reduce(
      (acc: Value, k) =>
        Array.isArray(acc) ? acc[Number(k)] : acc instanceof GoMap ? acc.entries[String(k)] : '',
      v,
    ),
  printf: ([format, ...args]) => printf(String(format), args),
  print: (args) => args.map(show).join(''),
  println: (args) => `${args.map(show).join(' ')}\n`,
  eq: ([a, ...rest]) => rest.some((b) => show(a) === show(b)),
  ne: ([a, b]) => show(a) !== show(b),
  not: ([a]) => !truthy(a),
  and: (args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
};

function operand(token: string, scope: Scope): Value {
  if (token.startsWith('"')) return JSON.parse(token) as string;
  if (token.startsWith('`')) return token.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
  if (token === 'true' || token === 'false') return token === 'true';
  if (token === 'nil') return null;
  let base: Value;
  let path: string;
  if (token.startsWith('$')) {
    const name = /^\$\w*/.exec(token)![0];
    if (!scope.vars.has(name)) fail(`undefined variable "${name}"`);
    base = scope.vars.get(name);
    path = token.slice(name.length);
  } else if (token.startsWith('.')) {
    base = scope.dot;
    path = token;
  } else {
    return fail(`function "${token}" not defined`);
  }
  for (const name of path.split('.').filter((p) => p !== '')) base = field(base, name);
  return base;
}

function evalPipe(pipe: Pipe, scope: Scope): Value {
  let previous: Value;
  pipe.cmds.forEach((cmd, i) => {
    const [head, ...rest] = cmd;
    const fn = FUNCTIONS[head!];
    if (fn) {
      const args = rest.map((t) => operand(t, scope));
      if (i > 0) args.push(previous);
      previous = fn(args, scope);
    } else {
      if (cmd.length > 1 || i > 0) fail(`can't give argument to non-function ${head}`);
      previous = operand(head!, scope);
    }
  });
  return previous;
}

function execute(nodes: readonly Node[], scope: Scope, out: string[]): void {
  for (const node of nodes) {
    if (node.type === 'text') out.push(node.text);
    else if (node.type === 'action') {
      const value = evalPipe(node.pipe, scope);
      if (node.pipe.decl.length > 0) scope.vars.set(node.pipe.decl[0]!, value);
      else out.push(show(value));
    } else if (node.type === 'range') {
      const value = evalPipe(node.pipe, scope);
      const list = items(value);
      if (list.length === 0) execute(node.elseBody, scope, out);
      const keys =
        value instanceof GoMap ? Object.keys(value.entries).sort() : list.map((_, i) => i);
      list.forEach((element, i) => {
        const vars = new Map(scope.vars);
        const [a, b] = node.pipe.decl;
        if (a && b) {
          vars.set(a, keys[i]);
          vars.set(b, element);
        } else if (a) vars.set(a, element);
        execute(node.body, { ...scope, dot: element, vars }, out);
      });
    } else {
      const value = evalPipe(node.pipe, scope);
      if (!truthy(value)) execute(node.elseBody, scope, out);
      else {
        const vars = new Map(scope.vars);
        if (node.pipe.decl[0]) vars.set(node.pipe.decl[0], value);
        execute(node.body, { ...scope, dot: node.type === 'with' ? value : scope.dot, vars }, out);
      }
    }
  }
}

/** Check a template's syntax (before anything is fetched). */
export function parseGoTemplate(source: string): void {
  parse(source);
}

/**
 * Run `source` once on `data` (the result slice); no newline is added. `asNumber` is what
 * `config "asnumber"` returns (default Calico's 64512).
 */
export function renderGoTemplate(
  source: string,
  data: readonly unknown[],
  asNumber = '64512',
): string {
  const out: string[] = [];
  const root = JSON.parse(JSON.stringify(data)) as unknown[];
  execute(parse(source), { dot: root, vars: new Map([['$', root]]), asNumber }, out);
  return out.join('');
}
