// `cidrpool ipam assign`: assign addresses from the command line, as the CNI plugin would for a
// pod (cidrpool's scripting command; calicoctl has none). Prints each address with its block's
// mask. With --pod it also writes the pod's WorkloadEndpoint; `ipam release --handle` undoes both.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { CidrpoolError, isCidrpoolError } from '../../errors/index.js';
import { resolveAnnotations, type ResolvedAnnotations } from '../../ipam/index.js';
import type { AutoAssignResult, FamilyAssignment, IntendedUse } from '../../ipam/types.js';
import { withBackend, type Backend } from '../backend.js';
import { errorMessage } from '../errors.js';
import { parseKeyValues } from '../key-values.js';
import { writeOut } from '../io.js';
import { parseIpArg } from '../ip-arg.js';
import { addDatastoreOptions, collect } from '../options.js';
import {
  buildWorkloadEndpoint,
  containerIdOf,
  hostInterfaceName,
  toHostNetwork,
  writeEndpoint,
} from '../../client/workload-endpoint.js';

interface AssignOptions {
  readonly node: string;
  readonly handle?: string;
  readonly namespace: string;
  readonly pod?: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly pool: string[];
  readonly ip?: string;
  readonly podAnnotation: string[];
  readonly namespaceAnnotation: string[];
  readonly namespaceLabel: string[];
  readonly use: string;
  readonly output?: string;
  readonly config?: string;
}

const USES: readonly IntendedUse[] = ['Workload', 'Tunnel', 'LoadBalancer'];

const usage = (message: string): never => {
  throw new CidrpoolError('CLI_USAGE', message);
};

/** Go's default time text, as Calico's `timestamp` attribute: `2026-01-02 03:04:05.123 +0000 UTC`. */
export function goTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.123Z
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''} +0000 UTC`;
}

function parseCount(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) usage(`invalid ${flag} ${text}: expected a count (0 or more)`);
  return Number(text);
}

/** Split --pool values by family: CIDRs by their text, names by looking the pool up. */
async function poolsByFamily(
  backend: Backend,
  pools: readonly string[],
): Promise<{ v4: string[]; v6: string[] }> {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const pool of pools) {
    if (pool.includes('/')) {
      (pool.includes(':') ? v6 : v4).push(pool);
      continue;
    }
    const found = await backend.client.find('IPPool', pool);
    if (!found || found.kind !== 'IPPool') {
      throw new CidrpoolError(
        'CLI_USAGE',
        `the given pool (${pool}) does not exist, or is not enabled`,
      );
    }
    (found.spec.cidr.includes(':') ? v6 : v4).push(pool);
  }
  return { v4, v6 };
}

async function assignAutomatically(
  backend: Backend,
  options: AssignOptions,
  chosen: ResolvedAnnotations,
  handleId: string,
  attrs: Record<string, string>,
): Promise<string[]> {
  const nsLabels = parseKeyValues(options.namespaceLabel, '--namespace-label');
  const families = chosen.families;
  const num4 = parseCount(options.ipv4, '--ipv4') ?? (families ? Number(families.ipv4) : 1);
  const num6 = parseCount(options.ipv6, '--ipv6') ?? (families ? Number(families.ipv6) : 0);
  const flagPools = await poolsByFamily(backend, options.pool);
  const ipv4Pools = flagPools.v4.length > 0 ? flagPools.v4 : chosen.ipv4Pools;
  const ipv6Pools = flagPools.v6.length > 0 ? flagPools.v6 : chosen.ipv6Pools;
  // All or nothing: a failed or short request has released what it took before it throws.
  let result: AutoAssignResult;
  try {
    result = await backend.ipam.autoAssign({
      num4,
      num6,
      handleId,
      attrs,
      hostname: options.node,
      ipv4Pools: ipv4Pools && ipv4Pools.length > 0 ? ipv4Pools : undefined,
      ipv6Pools: ipv6Pools && ipv6Pools.length > 0 ? ipv6Pools : undefined,
      intendedUse: options.use as IntendedUse,
      namespace: { name: options.namespace, labels: nsLabels },
    });
  } catch (err) {
    if (!isCidrpoolError(err, 'IPAM_SHORTFALL')) throw err;
    // `failed to request IPv4 addresses: Assigned 0 out of 1 ...` (the CNI plugin's words).
    const short = err.details.assignment as FamilyAssignment;
    throw new CidrpoolError(
      'CLI_IPAM_FAILED',
      `failed to request IPv${short.family} addresses: ${err.message}`,
      { cause: err },
    );
  }
  return [...result.ipv4.ips, ...result.ipv6.ips];
}

/** Assign the given addresses (--ip, or the ipAddrs annotation); all or nothing. */
async function assignExplicitly(
  backend: Backend,
  addresses: readonly string[],
  handleId: string,
  attrs: Record<string, string>,
  options: AssignOptions,
): Promise<string[]> {
  const ips: string[] = [];
  try {
    for (const ip of addresses) {
      await backend.ipam.assignIp({
        ip,
        handleId,
        attrs,
        hostname: options.node,
        intendedUse: options.use as IntendedUse,
      });
      ips.push(toHostNetwork(ip));
    }
  } catch (err) {
    if (ips.length > 0) await backend.ipam.releaseByHandle(handleId).catch(() => undefined);
    throw err;
  }
  return ips;
}

async function runAssign(options: AssignOptions): Promise<void> {
  if (!USES.includes(options.use as IntendedUse)) {
    usage(`invalid --use ${options.use}: expected Workload, Tunnel or LoadBalancer`);
  }
  if (options.output !== undefined && options.output !== 'json') {
    throw new CidrpoolError('CLI_OUTPUT_FORMAT', `unrecognized output format '${options.output}'`);
  }
  const chosen = resolveAnnotations({
    podAnnotations: parseKeyValues(options.podAnnotation, '--pod-annotation'),
    namespaceAnnotations: parseKeyValues(options.namespaceAnnotation, '--namespace-annotation'),
  });
  if (chosen.ipAddrsNoIpam) usage('requested feature is not enabled: ip_addrs_no_ipam');
  const explicitIps = options.ip !== undefined ? [parseIpArg(options.ip)] : chosen.ipAddrs;
  const containerId = options.handle
    ? containerIdOf(options.handle)
    : randomBytes(32).toString('hex');
  const handleId = options.handle ?? `k8s-pod-network.${containerId}`;
  const attrs: Record<string, string> = { node: options.node, timestamp: goTimestamp(Date.now()) };
  if (options.pod) Object.assign(attrs, { namespace: options.namespace, pod: options.pod });
  const ips = await withBackend(options, async (backend) => {
    let ips: string[];
    if (explicitIps !== undefined) {
      ips = await assignExplicitly(backend, explicitIps, handleId, attrs, options);
    } else {
      ips = await assignAutomatically(backend, options, chosen, handleId, attrs);
    }
    if (options.pod) {
      const endpoint = buildWorkloadEndpoint({
        node: options.node,
        workload: {
          orchestrator: 'k8s',
          namespace: options.namespace,
          pod: options.pod,
          containerId,
        },
        ifName: 'eth0',
        network: 'k8s-pod-network',
        addresses: ips,
        interfaceName: hostInterfaceName(options.namespace, options.pod),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      });
      try {
        // Only while the handle still holds the addresses (a concurrent release makes it fail).
        await writeEndpoint(backend.store, endpoint, { heldBy: handleId });
      } catch (err) {
        await backend.ipam.releaseByHandle(handleId).catch(() => undefined);
        throw new CidrpoolError(
          'CLI_IPAM_FAILED',
          `writing the WorkloadEndpoint failed (addresses released): ${errorMessage(err)}`,
          { cause: err },
        );
      }
    }
    return ips;
  });
  if (options.output === 'json') {
    const v4 = ips.filter((ip) => !ip.includes(':'));
    const v6 = ips.filter((ip) => ip.includes(':'));
    writeOut(`${JSON.stringify({ handle: handleId, ipv4: v4, ipv6: v6 }, null, 2)}\n`);
  } else {
    writeOut(ips.map((ip) => `${ip}\n`).join(''));
  }
}

/** Register `ipam assign`. */
export function addIpamAssignCommand(ipam: Command): void {
  const command = ipam
    .command('assign')
    .description(
      'Assign IP addresses to a node (and pod) as the CNI plugin would; prints each address with its block mask.',
    )
    .requiredOption('--node <NODE>', 'the Calico Node the addresses are for')
    .option(
      '--handle <ID>',
      'handle to record the addresses under (default: k8s-pod-network.<random container ID>)',
    )
    .option('--namespace <NS>', "the pod's namespace", 'default')
    .option(
      '--pod <NAME>',
      'pod name: recorded in the attributes, and a WorkloadEndpoint is written',
    )
    .option('--ipv4 <N>', 'number of IPv4 addresses (default 1, or per the ipFamilies annotation)')
    .option('--ipv6 <N>', 'number of IPv6 addresses (default 0, or per the ipFamilies annotation)')
    .option(
      '--pool <NAME|CIDR>',
      'use only this pool (repeatable); overrides the annotations',
      collect,
      [],
    )
    .option('--ip <ADDR>', 'assign exactly this address (as the CNI IP= argument)')
    .option(
      '--pod-annotation <K=V>',
      'pod annotation, e.g. cni.projectcalico.org/ipv4pools=["pool-1"] (repeatable)',
      collect,
      [],
    )
    .option(
      '--namespace-annotation <K=V>',
      'namespace annotation (repeatable); the pod value wins per key',
      collect,
      [],
    )
    .option(
      '--namespace-label <K=V>',
      'namespace label, for pools with a namespaceSelector (repeatable)',
      collect,
      [],
    )
    .option('--use <USE>', 'Workload, Tunnel or LoadBalancer', 'Workload')
    .option(
      '-o, --output <FORMAT>',
      'json: {"handle", "ipv4", "ipv6"} instead of one address per line',
    );
  addDatastoreOptions(command);
  command.action((options: AssignOptions) => runAssign(options));
}
