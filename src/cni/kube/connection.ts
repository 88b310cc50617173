// How to reach the Kubernetes API: from a kubeconfig file (parsed with `yaml`, loaded only
// here) or from `k8s_api_root` plus the `policy.k8s_*` settings.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CidrpoolError } from '../../errors/index.js';
import type { KubeSettings } from '../config.js';

/** Everything a request needs: the server URL and the TLS / auth material (PEM text). */
export interface KubeConnection {
  readonly server: string;
  readonly token?: string;
  readonly basicAuth?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipTlsVerify: boolean;
}

type Obj = Record<string, unknown>;
const asObject = (v: unknown): Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
const asString = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

const configError = (message: string, hint?: string, cause?: unknown) =>
  new CidrpoolError('CNI_KUBE_CONFIG', message, { details: hint ? { hint } : {}, cause });

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw configError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check the path in the CNI network config (kubernetes.kubeconfig / policy.k8s_*)',
      err,
    );
  }
}

/** A kubeconfig entry `<name>` or `<name>-data` (base64), with relative paths resolved. */
async function readMaterial(
  entry: Obj,
  name: string,
  baseDir: string,
): Promise<string | undefined> {
  const data = asString(entry[`${name}-data`]);
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  const file = asString(entry[name]);
  if (!file) return undefined;
  return readText(isAbsolute(file) ? file : resolve(baseDir, file), name);
}

/** Find `name` in a kubeconfig list such as `clusters: [{name, cluster: {...}}]`. */
function findNamed(list: unknown, name: string | undefined, field: string): Obj {
  if (!Array.isArray(list)) return {};
  const hit = (list as unknown[]).map(asObject).find((e) => e.name === name) ?? {};
  return asObject(hit[field]);
}

/**
 * Load a kubeconfig: the current context's cluster (server, certificate-authority[-data],
 * insecure-skip-tls-verify) and user (token, tokenFile, client-certificate[-data],
 * client-key[-data], username/password). Throws CNI_KUBE_CONFIG naming what is missing.
 */
export async function loadKubeconfig(path: string): Promise<KubeConnection> {
  const text = await readText(path, 'kubeconfig');
  // Loaded here only: most calls never use a kubeconfig and should not pay for the parser.
  const { parse } = await import('yaml');
  let doc: Obj;
  try {
    doc = asObject(parse(text));
  } catch (err) {
    throw configError(`cannot parse kubeconfig ${path}: ${(err as Error).message}`, undefined, err);
  }
  const currentName = asString(doc['current-context']);
  const contexts = Array.isArray(doc.contexts) ? (doc.contexts as unknown[]).map(asObject) : [];
  const contextEntry = currentName
    ? contexts.find((c) => c.name === currentName)
    : contexts.length === 1
      ? contexts[0]
      : undefined;
  const context = asObject(contextEntry?.context);
  const cluster = contextEntry
    ? findNamed(doc.clusters, asString(context.cluster), 'cluster')
    : asObject(asObject((doc.clusters as unknown[] | undefined)?.[0]).cluster);
  const user = contextEntry
    ? findNamed(doc.users, asString(context.user), 'user')
    : asObject(asObject((doc.users as unknown[] | undefined)?.[0]).user);
  const server = asString(cluster.server);
  if (!server) {
    throw configError(
      `kubeconfig ${path} has no cluster server for context "${currentName ?? ''}"`,
      'set current-context to a context whose cluster has a server URL',
    );
  }
  const baseDir = dirname(path);
  const tokenFile = asString(user.tokenFile);
  const token =
    asString(user.token) ??
    (tokenFile
      ? (
          await readText(
            isAbsolute(tokenFile) ? tokenFile : resolve(baseDir, tokenFile),
            'tokenFile',
          )
        ).trim()
      : undefined);
  const username = asString(user.username);
  return {
    server,
    token,
    basicAuth: username ? `${username}:${asString(user.password) ?? ''}` : undefined,
    ca: await readMaterial(cluster, 'certificate-authority', baseDir),
    cert: await readMaterial(user, 'client-certificate', baseDir),
    key: await readMaterial(user, 'client-key', baseDir),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

/**
 * The connection for a call: the kubeconfig when one is given (Calico prefers it), else
 * `k8s_api_root` with the `policy.k8s_*` token and certificate files. Throws CNI_KUBE_CONFIG.
 */
export async function resolveKubeConnection(settings: KubeSettings): Promise<KubeConnection> {
  if (settings.kubeconfig) return loadKubeconfig(settings.kubeconfig);
  if (!settings.apiRoot) {
    throw configError(
      'policy.type is "k8s" but neither kubernetes.kubeconfig nor kubernetes.k8s_api_root is set',
      'set kubernetes.kubeconfig to a kubeconfig file the plugin can read',
    );
  }
  return {
    server: settings.apiRoot,
    token: settings.authToken,
    ca: settings.certificateAuthority
      ? await readText(settings.certificateAuthority, 'policy.k8s_certificate_authority')
      : undefined,
    cert: settings.clientCertificate
      ? await readText(settings.clientCertificate, 'policy.k8s_client_certificate')
      : undefined,
    key: settings.clientKey
      ? await readText(settings.clientKey, 'policy.k8s_client_key')
      : undefined,
    insecureSkipTlsVerify: false,
  };
}
