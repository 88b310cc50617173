// Reads the two Kubernetes objects the plugin needs: the pod and its namespace.
import { CidrpoolError } from '../../errors/index.js';
import type { KubeConnection } from './connection.js';

/** The parts of a Pod or Namespace the plugin uses. */
export interface KubeObjectMeta {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A pod start waits on this: fail (retryably) rather than hang. */
const REQUEST_TIMEOUT_MS = 10_000;

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

async function request(conn: KubeConnection, path: string): Promise<HttpAnswer> {
  const url = new URL(path, conn.server.endsWith('/') ? conn.server : `${conn.server}/`);
  const secure = url.protocol === 'https:';
  const http = secure ? await import('node:https') : await import('node:http');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  else if (conn.basicAuth)
    headers.authorization = `Basic ${Buffer.from(conn.basicAuth).toString('base64')}`;
  return new Promise<HttpAnswer>((resolvePromise, reject) => {
    const req = http.request(
      url,
      {
        method: 'GET',
        headers,
        timeout: REQUEST_TIMEOUT_MS,
        ...(secure
          ? {
              ca: conn.ca,
              cert: conn.cert,
              key: conn.key,
              rejectUnauthorized: !conn.insecureSkipTlsVerify,
            }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function toMeta(body: string, what: string): KubeObjectMeta {
  let parsed: {
    metadata?: {
      name?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
  };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch (err) {
    throw new CidrpoolError('CNI_KUBE_API', `${what}: the API server's answer is not JSON`, {
      cause: err,
    });
  }
  return {
    name: parsed.metadata?.name ?? '',
    labels: parsed.metadata?.labels ?? {},
    annotations: parsed.metadata?.annotations ?? {},
  };
}

/** Certificate verification and handshake failures (Node's and OpenSSL's error codes). */
function isTlsTrustError(err: unknown): boolean {
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  return (
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_SSL_|ERR_TLS_/.test(code) ||
    /alert (bad certificate|unknown ca|certificate required)/.test((err as Error).message)
  );
}

/** Message of a Kubernetes Status body, when there is one. */
function statusMessage(answer: HttpAnswer): string {
  try {
    const status = JSON.parse(answer.body) as { message?: string };
    if (status.message) return status.message;
  } catch {
    // Not a Status object: fall back to the HTTP code.
  }
  return `HTTP ${answer.status}`;
}

/**
 * GET `path`. Throws CNI_KUBE_UNAVAILABLE when the server cannot be reached (or answers 5xx /
 * 429) and CNI_KUBE_API for other error statuses (404 included).
 */
async function getObject(
  conn: KubeConnection,
  path: string,
  what: string,
): Promise<KubeObjectMeta> {
  let answer: HttpAnswer;
  try {
    answer = await request(conn, path);
  } catch (err) {
    if (isTlsTrustError(err)) {
      // Retrying cannot help: the CA or client certificate in the settings is wrong.
      throw new CidrpoolError(
        'CNI_KUBE_CONFIG',
        `${what}: TLS with the Kubernetes API at ${conn.server} failed: ${(err as Error).message}`,
        {
          cause: err,
          details: {
            hint: "check the kubeconfig's certificate-authority and client certificate (or policy.k8s_certificate_authority)",
          },
        },
      );
    }
    throw new CidrpoolError(
      'CNI_KUBE_UNAVAILABLE',
      `${what}: cannot reach the Kubernetes API at ${conn.server}: ${(err as Error).message}`,
      {
        cause: err,
        details: {
          hint: 'check kubernetes.kubeconfig / k8s_api_root and that the API server is up',
        },
      },
    );
  }
  if (answer.status >= 500 || answer.status === 429) {
    throw new CidrpoolError('CNI_KUBE_UNAVAILABLE', `${what}: ${statusMessage(answer)}`);
  }
  if (answer.status !== 200) {
    throw new CidrpoolError('CNI_KUBE_API', `${what}: ${statusMessage(answer)}`, {
      details: { status: answer.status },
    });
  }
  return toMeta(answer.body, what);
}

/** GET /api/v1/namespaces/<ns>/pods/<pod>. Throws CNI_KUBE_API (also when absent). */
export async function getPod(
  conn: KubeConnection,
  namespace: string,
  pod: string,
): Promise<KubeObjectMeta> {
  const path = `api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}`;
  return getObject(conn, path, `failed to get pod ${namespace}/${pod}`);
}

/**
 * GET /api/v1/namespaces/<ns>. Throws like getPod, also when it does not exist: calico-ipam
 * fails with `failed to get namespace <ns>: namespaces "<ns>" not found` then.
 */
export async function getNamespace(
  conn: KubeConnection,
  namespace: string,
): Promise<KubeObjectMeta> {
  const path = `api/v1/namespaces/${encodeURIComponent(namespace)}`;
  return getObject(conn, path, `failed to get namespace ${namespace}`);
}
