// EtcdConfig -> what the etcd3 client needs, checked up front so that a wrong endpoint or an
// unreadable certificate is reported once, naming the value or the file, before any dialling.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CidrpoolError } from '../../errors/index.js';
import type { EtcdConfig } from '../config-types.js';
import type { TlsFiles } from './failure.js';

export const DEFAULT_CALL_TIMEOUT_MS = 5000;

export interface Credentials {
  readonly rootCertificate: Buffer;
  readonly privateKey?: Buffer;
  readonly certChain?: Buffer;
}

export interface ConnectionSettings {
  /** Normalised endpoints (`http://127.0.0.1:2379`), in the configured order. */
  readonly endpoints: readonly string[];
  /** TLS material, or undefined for plain http. */
  readonly credentials?: Credentials;
  readonly tlsFiles: TlsFiles;
  readonly auth?: { readonly username: string; readonly password: string };
  readonly callTimeoutMs: number;
}

const configError = (message: string, details: Record<string, unknown> = {}, cause?: unknown) =>
  new CidrpoolError('DS_CONFIG', message, { details, cause });

/**
 * Check an EtcdConfig and read its TLS files.
 * Throws DS_CONFIG naming the endpoint or the file that is wrong.
 */
export function resolveConnectionSettings(config: EtcdConfig): ConnectionSettings {
  const endpoints = config.endpoints.map(checkEndpoint);
  if (endpoints.length === 0) throw configError('no etcd endpoints are configured (etcdEndpoints)');
  const secure = endpoints.filter((url) => url.startsWith('https://')).length;
  if (secure > 0 && secure < endpoints.length) {
    throw configError(`etcd endpoints mix http and https: ${endpoints.join(', ')}`, { endpoints });
  }
  const tlsFiles: TlsFiles = {
    caCertFile: config.caCertFile || undefined,
    certFile: config.certFile || undefined,
    keyFile: config.keyFile || undefined,
  };
  const usesTls = secure > 0 || Object.values(tlsFiles).some((file) => file !== undefined);
  const timeout = config.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw configError(`etcd call timeout must be a positive number of ms, got ${timeout}`);
  }
  if ((config.username === undefined) !== (config.password === undefined)) {
    throw configError('etcd username and password must be given together');
  }
  return {
    endpoints,
    credentials: usesTls ? readCredentials(tlsFiles) : undefined,
    tlsFiles,
    auth:
      config.username !== undefined
        ? { username: config.username, password: config.password ?? '' }
        : undefined,
    callTimeoutMs: timeout,
  };
}

/** `127.0.0.1:2379` is accepted as http, like etcdctl; anything but http(s) host:port is not. */
function checkEndpoint(endpoint: string): string {
  const text = endpoint.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (error) {
    throw configError(`etcd endpoint "${endpoint}" is not a URL`, { endpoint }, error);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError(`etcd endpoint "${endpoint}" must start with http:// or https://`, {
      endpoint,
    });
  }
  if (!url.hostname || !url.port || (url.pathname !== '/' && url.pathname !== '')) {
    throw configError(`etcd endpoint "${endpoint}" must be scheme://host:port`, { endpoint });
  }
  return `${url.protocol}//${url.host}`;
}

function readCredentials(files: TlsFiles): Credentials {
  if (files.certFile && !files.keyFile) {
    throw configError(`etcd client certificate ${files.certFile} is set but no key file is`);
  }
  if (files.keyFile && !files.certFile) {
    throw configError(`etcd key file ${files.keyFile} is set but no client certificate is`);
  }
  const ca = files.caCertFile ? readPem(files.caCertFile, 'CA certificate file') : undefined;
  if (ca) parseCertificate(ca, files.caCertFile!, 'CA certificate file');
  if (!files.certFile || !files.keyFile) return { rootCertificate: ca! };
  const certChain = readPem(files.certFile, 'client certificate file');
  const privateKey = readPem(files.keyFile, 'key file');
  const cert = parseCertificate(certChain, files.certFile, 'client certificate file');
  let key;
  try {
    key = createPrivateKey(privateKey);
  } catch (error) {
    throw configError(
      `etcd key file ${files.keyFile} does not hold a PEM private key: ${reasonOf(error)}`,
      { file: files.keyFile },
      error,
    );
  }
  if (!cert.checkPrivateKey(key)) {
    throw configError(
      `etcd key file ${files.keyFile} does not match the client certificate ${files.certFile}`,
      { file: files.keyFile },
    );
  }
  // grpc-js accepts a null root certificate (system roots); etcd3 types it as a Buffer.
  return { rootCertificate: ca!, privateKey, certChain };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : reasonOf(error);
    throw configError(`etcd ${what} ${file} cannot be read: ${reason}`, { file }, error);
  }
}

function parseCertificate(pem: Buffer, file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw configError(
      `etcd ${what} ${file} does not hold a PEM certificate: ${reasonOf(error)}`,
      { file },
      error,
    );
  }
}

const reasonOf = (error: unknown): string =>
  error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error);
