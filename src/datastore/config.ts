// Which datastore to use, from calicoctl's CalicoAPIConfig file or the environment
// (see config-types.ts for the order). Keeps calicoctl's rules where cidrpool has the same
// datastore (libcalico-go/lib/apiconfig load.go and apiconfig.go, v3.32):
//   - a file is read alone (the environment does not add to it), YAML or JSON, unknown fields
//     rejected, apiVersion projectcalico.org/v3 and kind CalicoAPIConfig required;
//   - the environment is read as envconfig does: CALICO_<NAME> first, then <NAME>;
//   - with no datastoreType, etcdEndpoints means etcdv3. Calico then defaults to kubernetes;
//     cidrpool, which has no Kubernetes datastore, defaults to embedded.
import { access, constants, readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { CidrpoolError, type FieldIssue } from '../errors/index.js';
import type { DatastoreConfig, EmbeddedConfig, EtcdConfig } from './config-types.js';
import { absolutePath, defaultDataDir } from './data-dir.js';

/** calicoctl's default `-c`: when this file is missing the environment is used, silently. */
export const DEFAULT_CONFIG_FILE = '/etc/calico/calicoctl.cfg';

export interface LoadDatastoreConfigOptions {
  /** A CalicoAPIConfig file (calicoctl `-c`). */
  readonly configFile?: string;
  /** The environment to read (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** The fields of a configuration, whichever source they came from (all text, as calicoctl). */
interface RawSpec {
  datastoreType?: string;
  etcdEndpoints?: string | string[];
  etcdCACertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdUsername?: string;
  etcdPassword?: string;
  dataDir?: string;
  synchronous?: string;
}

/** Where a configuration came from: names fields in messages the way the user wrote them. */
interface Source {
  /** `config file /path` or `environment`. */
  readonly label: string;
  /** The name of a field in this source (`spec.etcdEndpoints`, `ETCD_ENDPOINTS`). */
  readonly field: (name: keyof RawSpec) => string;
}

const ENV_NAMES: Record<keyof RawSpec, string> = {
  datastoreType: 'DATASTORE_TYPE',
  etcdEndpoints: 'ETCD_ENDPOINTS',
  etcdCACertFile: 'ETCD_CA_CERT_FILE',
  etcdCertFile: 'ETCD_CERT_FILE',
  etcdKeyFile: 'ETCD_KEY_FILE',
  etcdUsername: 'ETCD_USERNAME',
  etcdPassword: 'ETCD_PASSWORD',
  dataDir: 'CIDRPOOL_DATA_DIR',
  synchronous: 'CIDRPOOL_SYNCHRONOUS',
};

/** Calico spec fields that cidrpool reads. */
const SPEC_FIELDS = new Set<string>(Object.keys(ENV_NAMES));
/** Calico spec fields of the Kubernetes datastore: valid in calicoctl files, unused here. */
const IGNORED_SPEC_FIELDS = new Set([
  'kubeconfig',
  'k8sAPIEndpoint',
  'k8sKeyFile',
  'k8sCertFile',
  'k8sCAFile',
  'k8sAPIToken',
  'k8sInsecureSkipTLSVerify',
  'k8sDisableNodePoll',
  'usePodCIDR',
  'kubeconfigInline',
  'k8sClientQPS',
  'k8sCurrentContext',
  'calicoAPIGroup',
]);
/** Calico spec fields cidrpool cannot honour, with what to use instead. */
const UNSUPPORTED_SPEC_FIELDS: Record<string, string> = {
  etcdDiscoverySrv: 'list the endpoints in etcdEndpoints instead',
  etcdKey: 'write the key to a file and name it in etcdKeyFile',
  etcdCert: 'write the certificate to a file and name it in etcdCertFile',
  etcdCACert: 'write the CA certificate to a file and name it in etcdCACertFile',
};

/** One DS_CONFIG error for every issue found: the first in the message, all in `issues`. */
function configError(source: Source, issues: readonly FieldIssue[]): CidrpoolError {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new CidrpoolError('DS_CONFIG', `${source.label}: ${first.path}: ${first.message}${more}`, {
    issues,
    details: { source: source.label },
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The spec of a CalicoAPIConfig document. Throws DS_CONFIG for YAML errors (with line and
 * column), a wrong apiVersion or kind, unknown fields and fields of the wrong type.
 */
function parseConfigText(text: string, source: Source): RawSpec {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.message.split('\n')[0]!;
    throw new CidrpoolError('DS_CONFIG', `${source.label}: ${line}`, {
      excerpt: yamlError.message.split('\n').slice(1).join('\n').trim() || undefined,
      position: yamlError.linePos
        ? { line: yamlError.linePos[0].line, column: yamlError.linePos[0].col }
        : undefined,
      details: { source: source.label },
    });
  }
  const root: unknown = doc.toJS();
  if (!isRecord(root)) {
    throw configError(source, [
      { path: '(document)', message: 'is not a CalicoAPIConfig mapping (apiVersion, kind, spec)' },
    ]);
  }
  const issues: FieldIssue[] = [];
  if (root['apiVersion'] !== 'projectcalico.org/v3') {
    issues.push({
      path: 'apiVersion',
      value: root['apiVersion'],
      message: `unknown APIVersion ${JSON.stringify(root['apiVersion'] ?? '')}`,
      hint: 'projectcalico.org/v3',
    });
  }
  if (root['kind'] !== 'CalicoAPIConfig') {
    issues.push({
      path: 'kind',
      value: root['kind'],
      message: `expected kind "CalicoAPIConfig", got ${JSON.stringify(root['kind'] ?? '')}`,
      hint: 'CalicoAPIConfig',
    });
  }
  for (const name of Object.keys(root)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(name)) {
      issues.push({ path: name, message: 'unknown field' });
    }
  }
  const spec: unknown = root['spec'] ?? {};
  const raw: RawSpec = {};
  if (!isRecord(spec)) {
    issues.push({ path: 'spec', value: spec, message: 'must be a mapping' });
  } else {
    for (const [name, value] of Object.entries(spec)) {
      const path = `spec.${name}`;
      if (name in UNSUPPORTED_SPEC_FIELDS) {
        if (value !== '' && value !== null) {
          issues.push({
            path,
            message: 'is not supported by cidrpool',
            hint: UNSUPPORTED_SPEC_FIELDS[name],
          });
        }
      } else if (IGNORED_SPEC_FIELDS.has(name)) {
        continue;
      } else if (!SPEC_FIELDS.has(name)) {
        issues.push({ path, message: 'unknown field' });
      } else if (value === null || value === undefined) {
        continue;
      } else if (
        name === 'etcdEndpoints' &&
        Array.isArray(value) &&
        value.every((item) => typeof item === 'string')
      ) {
        raw.etcdEndpoints = value as string[];
      } else if (typeof value !== 'string') {
        issues.push({ path, value, message: `must be a string, not ${JSON.stringify(value)}` });
      } else {
        raw[name as keyof RawSpec] = value as never;
      }
    }
  }
  if (issues.length > 0) throw configError(source, issues);
  return raw;
}

/** The spec the environment describes: CALICO_<NAME> wins over <NAME>; empty means unset. */
function readEnvironment(env: NodeJS.ProcessEnv): RawSpec {
  const raw: RawSpec = {};
  for (const [name, envName] of Object.entries(ENV_NAMES) as [keyof RawSpec, string][]) {
    const value = env[`CALICO_${envName}`] || env[envName];
    if (value) raw[name] = value as never;
  }
  return raw;
}

/** The endpoints of a comma-separated string (calicoctl) or a list, checked as URLs. */
function parseEndpoints(value: string | string[], source: Source, issues: FieldIssue[]): string[] {
  const items = (Array.isArray(value) ? value : value.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const path = source.field('etcdEndpoints');
  for (const item of items) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname) {
      issues.push({
        path,
        value: item,
        message: `${JSON.stringify(item)} is not an endpoint URL`,
        hint: 'write endpoints as http://HOST:PORT or https://HOST:PORT, separated by commas',
      });
    }
  }
  if (items.length === 0) {
    issues.push({
      path,
      value,
      message: 'names no endpoint; the etcdv3 datastore needs at least one',
      hint: 'e.g. http://127.0.0.1:2379',
    });
  }
  return items;
}

/** Check that a certificate or key file can be read. */
async function checkReadable(
  raw: RawSpec,
  name: 'etcdCACertFile' | 'etcdCertFile' | 'etcdKeyFile',
  source: Source,
  issues: FieldIssue[],
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const value = raw[name];
  if (value === undefined || value === '') return undefined;
  const path = absolutePath(value, env);
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({
      path: source.field(name),
      value,
      message: `${JSON.stringify(value)} cannot be read (${code})`,
    });
  }
  return path;
}

/** Turn a raw spec into a DatastoreConfig. Throws DS_CONFIG listing every issue. */
async function buildConfig(
  raw: RawSpec,
  source: Source,
  env: NodeJS.ProcessEnv,
): Promise<DatastoreConfig> {
  const issues: FieldIssue[] = [];
  const type =
    raw.datastoreType ||
    (raw.etcdEndpoints && raw.etcdEndpoints.length > 0 ? 'etcdv3' : 'embedded');
  if (type === 'etcdv3') {
    const endpoints = parseEndpoints(raw.etcdEndpoints ?? '', source, issues);
    const caCertFile = await checkReadable(raw, 'etcdCACertFile', source, issues, env);
    const certFile = await checkReadable(raw, 'etcdCertFile', source, issues, env);
    const keyFile = await checkReadable(raw, 'etcdKeyFile', source, issues, env);
    if (Boolean(certFile) !== Boolean(keyFile)) {
      const missing = certFile ? 'etcdKeyFile' : 'etcdCertFile';
      issues.push({
        path: source.field(missing),
        message: 'is required: a client certificate and its key go together',
      });
    }
    if (raw.etcdPassword && !raw.etcdUsername) {
      issues.push({
        path: source.field('etcdUsername'),
        message: 'is required when a password is given',
      });
    }
    if (issues.length > 0) throw configError(source, issues);
    const config: EtcdConfig = {
      type: 'etcdv3',
      endpoints,
      ...(caCertFile && { caCertFile }),
      ...(certFile && { certFile }),
      ...(keyFile && { keyFile }),
      ...(raw.etcdUsername && { username: raw.etcdUsername }),
      ...(raw.etcdPassword && { password: raw.etcdPassword }),
    };
    return config;
  }
  if (type === 'embedded') {
    const synchronous = raw.synchronous?.toLowerCase();
    if (synchronous !== undefined && synchronous !== 'full' && synchronous !== 'normal') {
      issues.push({
        path: source.field('synchronous'),
        value: raw.synchronous,
        message: `${JSON.stringify(raw.synchronous)} is not a synchronous level`,
        hint: 'full (durable, the default) or normal (faster; a power loss may lose the last writes)',
      });
    }
    if (issues.length > 0) throw configError(source, issues);
    const config: EmbeddedConfig = {
      type: 'embedded',
      dataDir: raw.dataDir ? absolutePath(raw.dataDir, env) : defaultDataDir(env),
      ...((synchronous === 'full' || synchronous === 'normal') && { synchronous }),
    };
    return config;
  }
  const message =
    type === 'kubernetes'
      ? 'the kubernetes datastore is not supported by cidrpool'
      : `${JSON.stringify(type)} is not a datastore type`;
  throw configError(source, [
    {
      path: source.field('datastoreType'),
      value: type,
      message,
      hint: 'use etcdv3 (with etcdEndpoints) or embedded',
    },
  ]);
}

/**
 * Resolve the datastore configuration: the CalicoAPIConfig file `configFile` when given (the
 * environment is then not read, as in calicoctl; a missing DEFAULT_CONFIG_FILE falls back to the
 * environment silently), else the environment, else the embedded store in the default data
 * folder. Paths come back absolute. Throws DS_CONFIG naming the file or variable, the field and
 * the value (every issue in `issues`); a missing non-default file gives
 * `Error reading config file: <path>`, calicoctl's words.
 */
export async function loadDatastoreConfig(
  options: LoadDatastoreConfigOptions = {},
): Promise<DatastoreConfig> {
  const env = options.env ?? process.env;
  const file = options.configFile;
  if (file !== undefined && file !== '') {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!(file === DEFAULT_CONFIG_FILE && code === 'ENOENT')) {
        throw new CidrpoolError('DS_CONFIG', `Error reading config file: ${file}`, {
          cause: err,
          details: { file, errno: code },
        });
      }
    }
    if (text !== undefined) {
      const source: Source = { label: `config file ${file}`, field: (name) => `spec.${name}` };
      return buildConfig(parseConfigText(text, source), source, env);
    }
  }
  const source: Source = {
    label: 'environment',
    field: (name) => ENV_NAMES[name],
  };
  return buildConfig(readEnvironment(env), source, env);
}
