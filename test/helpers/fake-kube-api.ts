// A stand-in for kube-apiserver in tests: an HTTP server on 127.0.0.1 (random port) that answers
// the two reads cidrpool-ipam makes, GET /api/v1/namespaces/<ns>/pods/<pod> and
// GET /api/v1/namespaces/<ns>, from objects the test supplies. Anything else is a 404 Status.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeObject {
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface FakeKubeApiOptions {
  /** Keyed `<namespace>/<pod>`. */
  readonly pods?: Record<string, FakeObject>;
  /** Keyed by namespace name. */
  readonly namespaces?: Record<string, FakeObject>;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  readonly token?: string;
  /** Serve HTTPS with this certificate (PEM); with `clientCa`, a client certificate is required. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
}

export interface FakeKubeApi {
  /** e.g. `http://127.0.0.1:41234` (https with `tls`) */
  readonly url: string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  /** Replace or add objects while running. */
  setPod(namespace: string, pod: string, object: FakeObject): void;
  setNamespace(namespace: string, object: FakeObject): void;
  stop(): Promise<void>;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }),
  );
}

/** Start the fake API server; call stop() in the test's teardown. */
export async function startFakeKubeApi(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const pods = new Map(Object.entries(options.pods ?? {}));
  const namespaces = new Map(Object.entries(options.namespaces ?? {}));
  const requests: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    requests.push(path);
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const podMatch = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    const nsMatch = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && podMatch) {
      const [ns, pod] = [decodeURIComponent(podMatch[1]!), decodeURIComponent(podMatch[2]!)];
      const obj = pods.get(`${ns}/${pod}`);
      if (!obj) return status(res, 404, 'NotFound', `pods "${pod}" not found`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: { name: pod, namespace: ns, labels: obj.labels, annotations: obj.annotations },
          spec: {},
        }),
      );
      return;
    }
    if (req.method === 'GET' && nsMatch) {
      const ns = decodeURIComponent(nsMatch[1]!);
      const obj = namespaces.get(ns);
      if (!obj) return status(res, 404, 'NotFound', `namespaces "${ns}" not found`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Namespace',
          apiVersion: 'v1',
          metadata: { name: ns, labels: obj.labels, annotations: obj.annotations },
        }),
      );
      return;
    }
    status(res, 404, 'NotFound', `the server could not find the requested resource (${path})`);
  };
  const tls = options.tls;
  const server = tls
    ? createHttpsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa
            ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        handler,
      )
    : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    setPod: (namespace, pod, object) => void pods.set(`${namespace}/${pod}`, object),
    setNamespace: (namespace, object) => void namespaces.set(namespace, object),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
