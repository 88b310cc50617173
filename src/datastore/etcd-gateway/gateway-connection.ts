// etcd's KV service through its JSON gateway (`POST /v3/kv/range`, `/v3/kv/txn`, ...) over
// Node's own http/https: the same requests and answers as the gRPC client's, for processes that
// live for one call (the CNI plugin) and should not load the gRPC stack (~165 ms, the `etcd3`
// package). docs/design/datastore.md, "etcd through the JSON gateway".
//
// Requests and answers keep etcd3's shapes (Buffers for keys and values, decimal strings for
// revisions), so EtcdStore (../etcd/etcd-store.ts) runs unchanged on top of this connection.
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { CidrpoolError } from '../../errors/index.js';
import type { KvConnection, KvService } from '../etcd/etcd-store.js';

/** What the connection needs (read from EtcdConfig by ./index.ts). */
export interface GatewaySettings {
  readonly endpoints: readonly string[];
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly auth?: { readonly username: string; readonly password: string };
  readonly callTimeoutMs: number;
  /** Where the TLS files came from, to name them in errors. */
  readonly tlsFiles: Readonly<Record<string, string | undefined>>;
}

/** An answer of the gateway that is not 200: gRPC's code and message. */
class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly grpcCode: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A failure before or while talking to one endpoint. */
interface Failure {
  /** refused: nothing was applied, try another endpoint; ambiguous: a write may have applied. */
  readonly kind: 'refused' | 'ambiguous' | 'tls' | 'auth' | 'rejected';
  readonly reason: string;
}

// etcd answers these before proposing anything to raft: nothing was applied.
const NOT_APPLIED = /no leader|not capable|too many requests|raft proposal dropped/;
const MAYBE_APPLIED = /request timed out|leader changed|server stopped/;
const TLS_WORDS =
  /certificate|self[- ]signed|unable to verify|altnames|handshake|wrong version number|unknown ca|EPROTO/i;

function classify(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (err instanceof GatewayError) {
    if (err.grpcCode === 16 || /authentication|invalid auth token|user name is empty/.test(message))
      return { kind: 'auth', reason: message };
    if (err.grpcCode === 7) return { kind: 'auth', reason: message };
    if (NOT_APPLIED.test(message)) return { kind: 'refused', reason: message };
    if (MAYBE_APPLIED.test(message) || err.status >= 500)
      return { kind: 'ambiguous', reason: message };
    return { kind: 'rejected', reason: message };
  }
  if (TLS_WORDS.test(message) || code.startsWith('ERR_TLS') || code.includes('CERT'))
    return { kind: 'tls', reason: message };
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code))
    return { kind: 'refused', reason: code === 'ECONNREFUSED' ? 'connection refused' : message };
  return { kind: 'ambiguous', reason: message };
}

/** Buffers become base64 and etcd3's enum words etcd's (`Mod` -> `MOD`), recursively. */
function toWire(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        (k === 'target' || k === 'result') && typeof v === 'string' ? v.toUpperCase() : toWire(v);
    }
    return out;
  }
  return value;
}

interface WireKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
  version?: string;
}

/** etcd's JSON omits defaults: fill them as the gRPC client would, keys and values as Buffers. */
const kvFromWire = (kv: WireKv) => ({
  key: Buffer.from(kv.key ?? '', 'base64'),
  value: Buffer.from(kv.value ?? '', 'base64'),
  mod_revision: kv.mod_revision ?? '0',
  create_revision: kv.create_revision ?? '0',
  version: kv.version ?? '0',
  lease: '0',
});

interface WireRange {
  header?: { revision?: string; cluster_id?: string };
  kvs?: WireKv[];
  more?: boolean;
  count?: string;
}

const rangeFromWire = (r: WireRange) => ({
  header: { revision: r.header?.revision ?? '0', cluster_id: r.header?.cluster_id ?? '' },
  kvs: (r.kvs ?? []).map(kvFromWire),
  more: r.more ?? false,
  count: r.count ?? '0',
});

/** Read a JSON body; a non-200 answer becomes a GatewayError with etcd's message. */
async function readJson(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: { error?: string; message?: string; code?: number } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    if (res.statusCode === 200) throw new Error(`not JSON: ${text.slice(0, 200)}`);
  }
  if (res.statusCode !== 200) {
    throw new GatewayError(
      res.statusCode ?? 0,
      body.code,
      body.message ?? body.error ?? text.trim(),
    );
  }
  return body;
}

type Transport = typeof import('node:http');

/** The gateway connection: one endpoint at a time, the next on a failure that applied nothing. */
export class GatewayConnection implements KvConnection {
  private current = 0;
  private token: string | undefined;
  private readonly agents: HttpAgent[];

  constructor(
    private readonly settings: GatewaySettings,
    private readonly transport: Transport,
  ) {
    // Keep-alive: the calls of one process reuse one TCP (and TLS) connection.
    this.agents = settings.endpoints.map(
      () =>
        new transport.Agent({
          keepAlive: true,
          ...(settings.tls ?? {}),
        } as ConstructorParameters<Transport['Agent']>[0]),
    );
  }

  /**
   * POST `body` to `path` of endpoint `index`; resolves to the response (status not checked).
   * `timeoutMs` bounds the whole call, or for a `stream` only the wait for the response to start
   * (0: no bound): a watch stream may then stay quiet for as long as nothing changes.
   */
  request(index: number, path: string, body: unknown, timeoutMs: number, stream = false) {
    const url = new URL(path, this.settings.endpoints[index]);
    const payload = JSON.stringify(body);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.transport.request(
        url,
        {
          method: 'POST',
          agent: this.agents[index],
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            ...(this.token ? { authorization: this.token } : {}),
          },
          ...(stream ? {} : { timeout: timeoutMs }),
        },
        (res) => {
          clearTimeout(started);
          resolve(res);
        },
      );
      const started =
        stream && timeoutMs > 0 ? setTimeout(() => req.emit('timeout'), timeoutMs) : undefined;
      req.on('timeout', () =>
        req.destroy(
          Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      req.on('error', (err) => {
        clearTimeout(started);
        reject(err);
      });
      req.end(payload);
    });
  }

  /** Call `path` and parse the answer, authenticating first (and again once if the token aged). */
  private async post(
    index: number,
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    if (this.settings.auth && !this.token) await this.authenticate(index, timeoutMs);
    try {
      return await readJson(await this.request(index, path, body, timeoutMs));
    } catch (err) {
      if (
        this.settings.auth &&
        err instanceof GatewayError &&
        /invalid auth token/.test(err.message)
      ) {
        this.token = undefined;
        await this.authenticate(index, timeoutMs);
        return readJson(await this.request(index, path, body, timeoutMs));
      }
      throw err;
    }
  }

  private async authenticate(index: number, timeoutMs: number): Promise<void> {
    const { username, password } = this.settings.auth!;
    const res = await this.request(
      index,
      '/v3/auth/authenticate',
      { name: username, password },
      timeoutMs,
    );
    this.token = ((await readJson(res)) as { token?: string }).token;
  }

  /** The gateway's token, for the watch stream. */
  async authorization(index: number): Promise<string | undefined> {
    if (this.settings.auth && !this.token)
      await this.authenticate(index, this.settings.callTimeoutMs);
    return this.token;
  }

  get currentIndex(): number {
    return this.current;
  }

  /** How many endpoints the cluster was given. */
  get endpointCount(): number {
    return this.settings.endpoints.length;
  }

  /** The endpoint at `index`, for messages. */
  endpoint(index: number): string {
    return this.settings.endpoints[index]!;
  }

  /** How long one call may take. */
  get callTimeoutMs(): number {
    return this.settings.callTimeoutMs;
  }

  private kvAt(index: number, timeoutMs: number): KvService {
    const post = (path: string, body: unknown) => this.post(index, path, toWire(body), timeoutMs);
    const kv = {
      range: async (req: unknown) => rangeFromWire((await post('/v3/kv/range', req)) as WireRange),
      put: async (req: unknown) => {
        const r = (await post('/v3/kv/put', req)) as WireRange;
        return { header: { revision: r.header?.revision ?? '0' } };
      },
      deleteRange: async (req: unknown) => {
        const r = (await post('/v3/kv/deleterange', req)) as WireRange & { deleted?: string };
        return {
          header: { revision: r.header?.revision ?? '0' },
          deleted: r.deleted ?? '0',
          prev_kvs: [],
        };
      },
      txn: async (req: unknown) => {
        const r = (await post('/v3/kv/txn', req)) as {
          header?: { revision?: string };
          succeeded?: boolean;
          responses?: { response_range?: WireRange }[];
        };
        return {
          header: { revision: r.header?.revision ?? '0' },
          succeeded: r.succeeded ?? false,
          responses: (r.responses ?? []).map((x) =>
            x.response_range ? { response_range: rangeFromWire(x.response_range) } : x,
          ),
        };
      },
    };
    return kv as unknown as KvService;
  }

  /**
   * The ID of the etcd cluster (decimal text, from a member's response header): the same for
   * every member, whichever endpoints name them. Throws as `call`.
   */
  async clusterId(): Promise<string> {
    const { value } = await this.call('reading the cluster ID', async ({ kv }) => {
      const r = (await kv.range({ key: Buffer.from('\0'), limit: '1', keys_only: true })) as {
        header: { cluster_id: string };
      };
      return r.header.cluster_id;
    });
    return value;
  }

  /**
   * Run `attempt` on the current endpoint; on a failure that applied nothing (or a read), on the
   * next ones, all within callTimeoutMs. Throws DS_UNAVAILABLE naming every endpoint tried,
   * DS_CONFIG (TLS, credentials), DS_REJECTED (etcd refused the request itself).
   */
  async call<T>(
    what: string,
    attempt: (client: { readonly kv: KvService }, options: { deadline: number }) => Promise<T>,
    write = false,
  ): Promise<{ value: T; ambiguous: boolean }> {
    const deadline = Date.now() + this.settings.callTimeoutMs;
    const reasons: string[] = [];
    let ambiguous = false;
    const n = this.settings.endpoints.length;
    for (let tried = 0; tried < n && Date.now() < deadline; tried++) {
      const index = (this.current + tried) % n;
      const endpoint = this.settings.endpoints[index]!;
      try {
        const value = await attempt({ kv: this.kvAt(index, deadline - Date.now()) }, { deadline });
        this.current = index;
        return { value, ambiguous };
      } catch (err) {
        const failure = classify(err);
        const where = `etcd at ${endpoint}`;
        if (failure.kind === 'tls')
          throw new CidrpoolError('DS_CONFIG', `TLS with ${where} failed: ${failure.reason}`, {
            details: { endpoint, ...this.settings.tlsFiles },
            cause: err,
          });
        if (failure.kind === 'auth')
          throw new CidrpoolError(
            'DS_CONFIG',
            `${where} refused the credentials: ${failure.reason}`,
            {
              details: { endpoint, hint: 'check etcd_username and etcd_password' },
              cause: err,
            },
          );
        if (failure.kind === 'rejected')
          throw new CidrpoolError('DS_REJECTED', `${where} rejected ${what}: ${failure.reason}`, {
            details: { endpoint },
            cause: err,
          });
        reasons.push(`${endpoint}: ${failure.reason}`);
        if (failure.kind === 'ambiguous' && write) ambiguous = true;
      }
    }
    throw new CidrpoolError(
      'DS_UNAVAILABLE',
      `${what}: no etcd endpoint answered (${reasons.join('; ') || `deadline of ${this.settings.callTimeoutMs} ms`})`,
      { details: { endpoints: this.settings.endpoints, ambiguous } },
    );
  }

  close(): void {
    for (const agent of this.agents) agent.destroy();
  }
}
