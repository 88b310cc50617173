// The network configuration on stdin: calico-ipam's keys (surfaces.md §3.1), checked once.
import { CidrpoolError, type FieldIssue, formatFieldIssue } from '../errors/index.js';

/** The IPAM section, canonicalised. */
export interface IpamSection {
  readonly type: string;
  readonly assignIpv4: boolean;
  readonly assignIpv6: boolean;
  readonly ipv4Pools: readonly string[];
  readonly ipv6Pools: readonly string[];
  /**
   * Ours (Calico ignores it): `calico` (default) gives each address a route whose dst is the
   * address with its block mask, as calico-ipam does; `none` gives no routes. The reference
   * `bridge` plugin installs IPAM routes as given and the kernel rejects a dst with host bits
   * set, so configs that delegate from `bridge` use `none`.
   */
  readonly resultRoutes: 'calico' | 'none';
}

/** Kubernetes connection settings, from `kubernetes.*` and `policy.*`. */
export interface KubeSettings {
  readonly kubeconfig?: string;
  readonly apiRoot?: string;
  readonly authToken?: string;
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  readonly certificateAuthority?: string;
}

/** The parts of the network config the plugin uses. */
export interface NetConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly ipam: IpamSection;
  readonly nodename?: string;
  readonly nodenameFile: string;
  readonly nodenameFileOptional: boolean;
  readonly hostname?: string;
  readonly datastoreType?: string;
  readonly etcdEndpoints?: string;
  readonly etcdCaCertFile?: string;
  readonly etcdCertFile?: string;
  readonly etcdKeyFile?: string;
  readonly etcdUsername?: string;
  readonly etcdPassword?: string;
  /** Ours: the embedded store's folder. */
  readonly dataDir?: string;
  /** Calico's host-wide lock file; we use it for the per-node lock (see docs/cni.md). */
  readonly ipamLockFile?: string;
  /** `feature_control.ip_addrs_no_ipam`: allow the ipAddrsNoIpam annotation. */
  readonly ipAddrsNoIpam: boolean;
  /** `feature_control.floating_ips`: allow the floatingIPs annotation (NAT on the endpoint). */
  readonly floatingIps: boolean;
  /** `policy.type: k8s`: read pod and namespace annotations from the Kubernetes API. */
  readonly policyK8s: boolean;
  readonly kube: KubeSettings;
  /** The bridge plugin passes its previous result to CHECK. */
  readonly prevResult?: unknown;
  /** GC (1.1.0): attachments that must be kept. */
  readonly validAttachments?: readonly { containerID: string; ifname: string }[];
  /**
   * The config's own `type` is `cidrpool-cni`: the pod plugin delegated this IPAM call and writes
   * the WorkloadEndpoint itself (with interface and MAC), as Calico's `calico` plugin does for
   * calico-ipam; the IPAM plugin then leaves the endpoint alone.
   */
  readonly endpointOwnedByPodPlugin: boolean;
  /** The raw object, for keys nobody above needed. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** The CNI type of the pod plugin (bin/cidrpool-cni). */
export const POD_PLUGIN_TYPE = 'cidrpool-cni';

const NAME_RE = /^[a-zA-Z0-9_.-]+$/;
const BAD_NAME_MESSAGE =
  'invalid characters detected in the given network name. Only letters a-z, numbers 0-9, and symbols _.- are supported';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects issues so one error names every bad key (STYLE.md: validators report every issue). */
class Reader {
  readonly issues: FieldIssue[] = [];

  string(obj: Obj, key: string, path: string): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.issues.push({
        path,
        value: v,
        message: `must be a string, not ${Array.isArray(v) ? 'an array' : typeof v}`,
        hint:
          typeof v === 'boolean'
            ? `write "${String(v)}" (with quotes), as calico-ipam requires`
            : undefined,
      });
      return undefined;
    }
    return v;
  }

  bool(obj: Obj, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.issues.push({ path, value: v, message: 'must be a JSON boolean' });
      return undefined;
    }
    return v;
  }

  strings(obj: Obj, key: string, path: string): string[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      this.issues.push({
        path,
        value: v,
        message: 'must be a list of strings (pool names or CIDRs)',
        hint: `e.g. ["10.65.0.0/16", "my-pool"]`,
      });
      return [];
    }
    return v as string[];
  }

  object(obj: Obj, key: string, path: string): Obj {
    const v = obj[key];
    if (v === undefined || v === null) return {};
    if (!isObject(v)) {
      this.issues.push({ path, value: v, message: 'must be an object' });
      return {};
    }
    return v;
  }
}

/**
 * Parse the JSON network config. Throws CNI_DECODE when stdin is not a JSON object and
 * CNI_INVALID_CONFIG (with every FieldIssue) for wrong keys. Like calico-ipam, `assign_ipv4`
 * and `assign_ipv6` must be strings: a JSON boolean fails with `failed to load netconf: ...`.
 * cniVersion is not checked here (see versions.ts) so VERSION can run with any config.
 */
export function parseNetConf(stdin: string): NetConf {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin);
  } catch (err) {
    throw new CidrpoolError('CNI_DECODE', `failed to load netconf: ${(err as Error).message}`, {
      details: { hint: 'the network configuration on stdin must be a JSON object' },
    });
  }
  if (!isObject(parsed)) {
    throw new CidrpoolError(
      'CNI_DECODE',
      'failed to load netconf: data on stdin was of unexpected type',
      {
        details: { hint: 'the network configuration on stdin must be a JSON object' },
      },
    );
  }
  const r = new Reader();
  const cniVersion = r.string(parsed, 'cniVersion', 'cniVersion') ?? '0.1.0';
  const name = r.string(parsed, 'name', 'name') ?? '';
  if (name !== '' && !NAME_RE.test(name)) {
    r.issues.push({
      path: 'name',
      value: name,
      message: BAD_NAME_MESSAGE,
      hint: `e.g. "${name.replace(/[^a-zA-Z0-9_.-]+/g, '-')}"`,
    });
  } else if (name === '') {
    r.issues.push({ path: 'name', message: 'is required', hint: 'e.g. "k8s-pod-network"' });
  }

  const ipamRaw = parsed.ipam;
  let ipamObj: Obj = {};
  if (ipamRaw !== undefined && !isObject(ipamRaw)) {
    r.issues.push({
      path: 'ipam',
      value: ipamRaw,
      message: 'data on stdin was of unexpected type',
      hint: 'ipam must be an object, e.g. "ipam": {"type": "calico-ipam"}',
    });
  } else if (ipamRaw) {
    ipamObj = ipamRaw;
  }
  const assign4 = r.string(ipamObj, 'assign_ipv4', 'ipam.assign_ipv4');
  const assign6 = r.string(ipamObj, 'assign_ipv6', 'ipam.assign_ipv6');
  let ipam: IpamSection = {
    type: r.string(ipamObj, 'type', 'ipam.type') ?? 'calico-ipam',
    // Calico: only the exact string "false" disables IPv4, only "true" enables IPv6.
    assignIpv4: assign4 !== 'false',
    assignIpv6: assign6 === 'true',
    ipv4Pools: r.strings(ipamObj, 'ipv4_pools', 'ipam.ipv4_pools'),
    ipv6Pools: r.strings(ipamObj, 'ipv6_pools', 'ipam.ipv6_pools'),
    resultRoutes: 'calico',
  };
  const routes = r.string(ipamObj, 'result_routes', 'ipam.result_routes');
  if (routes === 'none') ipam = { ...ipam, resultRoutes: 'none' };
  else if (routes !== undefined && routes !== 'calico') {
    r.issues.push({
      path: 'ipam.result_routes',
      value: routes,
      message: 'must be "calico" or "none"',
      hint: 'use "none" when the bridge plugin delegates IPAM to cidrpool-ipam',
    });
  }

  const kubernetes = r.object(parsed, 'kubernetes', 'kubernetes');
  const policy = r.object(parsed, 'policy', 'policy');
  const policyType = r.string(policy, 'type', 'policy.type');
  const kube: KubeSettings = {
    kubeconfig: r.string(kubernetes, 'kubeconfig', 'kubernetes.kubeconfig'),
    apiRoot:
      r.string(kubernetes, 'k8s_api_root', 'kubernetes.k8s_api_root') ??
      r.string(policy, 'k8s_api_root', 'policy.k8s_api_root'),
    authToken: r.string(policy, 'k8s_auth_token', 'policy.k8s_auth_token'),
    clientCertificate: r.string(policy, 'k8s_client_certificate', 'policy.k8s_client_certificate'),
    clientKey: r.string(policy, 'k8s_client_key', 'policy.k8s_client_key'),
    certificateAuthority: r.string(
      policy,
      'k8s_certificate_authority',
      'policy.k8s_certificate_authority',
    ),
  };

  // Calico reads these at the top level. Plugins such as `bridge` hand their whole config to
  // IPAM, where IPAM settings naturally sit in `ipam`: accept them there too (top level wins).
  const top = (key: string): string | undefined =>
    r.string(parsed, key, key) ?? r.string(ipamObj, key, `ipam.${key}`);
  const discovery = top('etcd_discovery_srv');
  if (discovery) {
    r.issues.push({
      path: 'etcd_discovery_srv',
      value: discovery,
      message: 'is not supported by cidrpool-ipam',
      hint: 'list the etcd members in etcd_endpoints instead, e.g. "https://10.0.0.10:2379,https://10.0.0.11:2379"',
    });
  }
  const featureControl = r.object(parsed, 'feature_control', 'feature_control');
  const runtimeConfig = r.object(parsed, 'runtimeConfig', 'runtimeConfig');
  const attachments =
    parsed['cni.dev/valid-attachments'] ?? runtimeConfig['cni.dev/valid-attachments'];
  const conf: NetConf = {
    cniVersion,
    name,
    ipam,
    nodename: top('nodename'),
    nodenameFile: top('nodename_file') ?? '/var/lib/calico/nodename',
    nodenameFileOptional:
      r.bool(parsed, 'nodename_file_optional', 'nodename_file_optional') ?? false,
    hostname: top('hostname'),
    datastoreType: top('datastore_type'),
    etcdEndpoints: top('etcd_endpoints'),
    etcdCaCertFile: top('etcd_ca_cert_file'),
    etcdCertFile: top('etcd_cert_file'),
    etcdKeyFile: top('etcd_key_file'),
    etcdUsername: top('etcd_username'),
    etcdPassword: top('etcd_password'),
    dataDir: top('data_dir'),
    ipamLockFile: top('ipam_lock_file'),
    ipAddrsNoIpam:
      r.bool(featureControl, 'ip_addrs_no_ipam', 'feature_control.ip_addrs_no_ipam') ?? false,
    floatingIps: r.bool(featureControl, 'floating_ips', 'feature_control.floating_ips') ?? false,
    policyK8s: policyType === 'k8s',
    kube,
    prevResult: parsed.prevResult,
    endpointOwnedByPodPlugin: parsed.type === POD_PLUGIN_TYPE,
    validAttachments: Array.isArray(attachments)
      ? (attachments as { containerID: string; ifname: string }[])
      : undefined,
    raw: parsed,
  };
  if (r.issues.length === 1 && r.issues[0]!.message === BAD_NAME_MESSAGE) {
    // Alone, a bad name gets Calico's own text (CreateClient's ValidateNetworkName), verbatim.
    const issue = r.issues[0]!;
    throw new CidrpoolError('CNI_INVALID_CONFIG', BAD_NAME_MESSAGE, {
      issues: r.issues,
      details: { hint: `name ${JSON.stringify(issue.value)}: ${issue.hint}` },
    });
  }
  if (r.issues.length > 0) {
    throw new CidrpoolError(
      'CNI_INVALID_CONFIG',
      `failed to load netconf: ${r.issues.map(formatFieldIssue).join('; ')}`,
      { issues: r.issues },
    );
  }
  return conf;
}
