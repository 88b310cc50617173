// The dashboard's HTTP server: the bundled page (dist/web) and a read-only JSON API. Every route
// answers GET (and HEAD) only; there is no write endpoint.
//
//   GET /                   the page (index.html, app.js, app.css): no data, served to anyone
//   GET /api/snapshot       Snapshot (api-types.ts), gzip when accepted
//   GET /api/block?cidr=C   BlockDetail of one claimed block
//   GET /api/search?q=Q     SearchResult
//   GET /api/events         text/event-stream: `event: version` with each new snapshot version
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Datastore } from '../datastore/api.js';
import { CidrpoolError, isCidrpoolError } from '../errors/index.js';
import { bearerChecker, isLoopbackHostHeader, type ListenAddress } from './access.js';
import type { ApiError } from './api-types.js';
import { getBlockDetail } from './block-detail.js';
import type { LiveModel } from './live-model.js';

/** dist/web, beside dist/src (this file runs as dist/src/http/server.js). */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface DashboardServerOptions {
  readonly listen: ListenAddress;
  /** Required when `listen` is not loopback (checked by the caller). */
  readonly token?: string;
  readonly store: Datastore;
  readonly live: LiveModel;
  /** Seconds between keep-alive comments on event streams. */
  readonly heartbeatSeconds?: number;
}

export interface DashboardServer {
  /** `http://host:port/` as bound (port 0 resolved). */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

function loadAssets(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of new Set(Object.values(ASSETS))) {
    try {
      files.set(name, readFileSync(`${WEB_DIR}${name}`));
    } catch {
      // Not built: the page says how to build it (below).
    }
  }
  return files;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

const sendError = (res: ServerResponse, status: number, body: ApiError): void =>
  sendJson(res, status, body);

/**
 * Start serving on `options.listen`. Resolves when the port is bound; throws HTTP_LISTEN when it
 * cannot be (in use, no such address).
 */
export async function startDashboardServer(
  options: DashboardServerOptions,
): Promise<DashboardServer> {
  const assets = loadAssets();
  const checkToken = options.token !== undefined ? bearerChecker(options.token) : undefined;
  const streams = new Set<ServerResponse>();
  const heartbeatMs = (options.heartbeatSeconds ?? 15) * 1000;

  /** Undefined when the request may read the API, else the refusal. */
  function refuse(req: IncomingMessage): { status: number; body: ApiError } | undefined {
    if (checkToken) {
      const verdict = checkToken(req.headers.authorization);
      if (verdict === 'ok') return undefined;
      return {
        status: 401,
        body: {
          error:
            verdict === 'missing'
              ? 'this dashboard needs the bearer token of its --token-file'
              : 'the bearer token is wrong',
          token: verdict,
        },
      };
    }
    if (!isLoopbackHostHeader(req.headers.host))
      return {
        status: 403,
        body: {
          error: `Host "${req.headers.host ?? ''}" is not a loopback name: open the dashboard as http://127.0.0.1:PORT/, or listen with --token-file`,
        },
      };
    return undefined;
  }

  function serveAsset(res: ServerResponse, name: string, head: boolean): void {
    const body = assets.get(name);
    if (!body) {
      sendError(res, 500, {
        error: `the dashboard page is not built (${WEB_DIR}${name}); run npm run build`,
      });
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
    });
    res.end(head ? undefined : body);
  }

  function serveSnapshot(req: IncomingMessage, res: ServerResponse, head: boolean): void {
    const encoded = options.live.encoded();
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? encoded.gzip : encoded.json;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': body.length,
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(head ? undefined : body);
  }

  function serveEvents(req: IncomingMessage, res: ServerResponse, head: boolean): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    if (head) {
      res.end();
      return;
    }
    const send = (version: number): void => {
      res.write(`event: version\ndata: ${version}\n\n`);
    };
    send(options.live.model.snapshot.version);
    const unsubscribe = options.live.subscribe(send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    streams.add(res);
    const stop = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      sendError(res, 405, { error: `${req.method} is not allowed: the dashboard is read-only` });
      return;
    }
    const asset = ASSETS[url.pathname];
    if (asset) return serveAsset(res, asset, head);
    if (!url.pathname.startsWith('/api/')) {
      sendError(res, 404, { error: `no page ${url.pathname}` });
      return;
    }
    const refusal = refuse(req);
    if (refusal) {
      if (refusal.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="cidrpool"');
      sendError(res, refusal.status, refusal.body);
      return;
    }
    switch (url.pathname) {
      case '/api/snapshot':
        return serveSnapshot(req, res, head);
      case '/api/events':
        return serveEvents(req, res, head);
      case '/api/block':
        return sendJson(
          res,
          200,
          await getBlockDetail(
            options.store,
            options.live.model.utilization,
            url.searchParams.get('cidr') ?? '',
          ),
        );
      case '/api/search':
        return sendJson(res, 200, await options.live.search(url.searchParams.get('q') ?? ''));
      default:
        sendError(res, 404, { error: `no API ${url.pathname}` });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = !isCidrpoolError(err)
        ? 500
        : err.code === 'HTTP_BAD_REQUEST'
          ? 400
          : err.code === 'HTTP_NOT_FOUND'
            ? 404
            : 500;
      if (!res.headersSent) sendError(res, status, { error: (err as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new CidrpoolError(
          'HTTP_LISTEN',
          `cannot listen on ${options.listen.host}:${options.listen.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use; choose another with --listen' : err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.listen.host.includes(':') ? `[${options.listen.host}]` : options.listen.host;
  return {
    url: `http://${host}:${port}/`,
    server,
    async close() {
      for (const res of streams) res.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
