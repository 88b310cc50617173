// The CNI_* environment of one plugin call (CNI spec, "Parameters").
import { CidrpoolError } from '../errors/index.js';

/** The commands of the CNI spec up to 1.1.0. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

/** `CNI_ARGS` as calico-ipam reads it (K8sArgs plus the `IP` argument). */
export interface CniArgs {
  readonly podNamespace?: string;
  readonly podName?: string;
  readonly podUid?: string;
  readonly infraContainerId?: string;
  /** `IP=<addr>`: assign exactly this address. */
  readonly ip?: string;
  /** Every pair, for callers that need one not listed above. */
  readonly all: Readonly<Record<string, string>>;
}

/** The validated environment of a call. */
export interface CniEnv {
  readonly command: CniCommand;
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  readonly args: CniArgs;
  readonly path: string;
}

/**
 * Parse `CNI_ARGS` (`K=V;K2=V2`). Unknown keys are kept and ignored: kubelet and containerd
 * always send `IgnoreUnknown=1`, and rejecting unknown keys only breaks other runtimes.
 * Throws CNI_INVALID_ENV for a pair without `=`.
 */
export function parseCniArgs(text: string | undefined): CniArgs {
  const all: Record<string, string> = {};
  for (const pair of (text ?? '').split(';')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) {
      throw new CidrpoolError('CNI_INVALID_ENV', `ARGS: invalid pair "${pair}" in CNI_ARGS`, {
        details: { hint: 'CNI_ARGS must be KEY=VALUE pairs separated by ";"' },
      });
    }
    all[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const pick = (key: string): string | undefined => (all[key] ? all[key] : undefined);
  return {
    podNamespace: pick('K8S_POD_NAMESPACE'),
    podName: pick('K8S_POD_NAME'),
    podUid: pick('K8S_POD_UID'),
    infraContainerId: pick('K8S_POD_INFRA_CONTAINER_ID'),
    ip: pick('IP'),
    all,
  };
}

/** The command alone, so VERSION works without the other variables. Throws CNI_INVALID_ENV. */
export function readCommand(env: NodeJS.ProcessEnv): CniCommand {
  const raw = env.CNI_COMMAND;
  if (!raw) {
    throw new CidrpoolError('CNI_INVALID_ENV', 'required env variables [CNI_COMMAND] missing');
  }
  if (!(COMMANDS as readonly string[]).includes(raw)) {
    throw new CidrpoolError('CNI_INVALID_ENV', `unknown CNI_COMMAND: ${raw}`, {
      details: { hint: `use one of ${COMMANDS.join(', ')}` },
    });
  }
  return raw as CniCommand;
}

/** The CNI library's rule for container IDs (and network names). */
const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * The Go skel's ValidateContainerID: the ID becomes part of the handle and of datastore keys.
 * Throws CNI_INVALID_ENV `invalid characters in containerID`.
 */
function checkContainerId(id: string): void {
  if (CONTAINER_ID_RE.test(id)) return;
  throw new CidrpoolError('CNI_INVALID_ENV', 'invalid characters in containerID', {
    details: {
      value: id,
      hint: `CNI_CONTAINERID ${JSON.stringify(id)} may hold only letters, digits, "_", "." and "-", starting with a letter or digit`,
    },
  });
}

/**
 * The Go skel's ValidateInterfaceName (Linux: at most 15 bytes, not `.` or `..`, no `/`, `:` or
 * whitespace), with its messages. Throws CNI_INVALID_ENV.
 */
function checkIfName(name: string): void {
  let msg: string | undefined;
  if (Buffer.byteLength(name) > 15) msg = 'interface name is too long';
  else if (name === '.' || name === '..') msg = 'interface name is . or ..';
  else if (/[/:\s]/.test(name)) msg = 'interface name contains / or : or whitespace characters';
  if (msg === undefined) return;
  throw new CidrpoolError('CNI_INVALID_ENV', msg, {
    details: {
      value: name,
      hint: `CNI_IFNAME ${JSON.stringify(name)} must be a Linux interface name: 1-15 bytes, no "/", ":" or whitespace, e.g. eth0`,
    },
  });
}

/**
 * Read and check the CNI_* variables a command needs, as the Go skel does: ADD, DEL and CHECK
 * need CNI_CONTAINERID and CNI_IFNAME (and CNI_NETNS for ADD and CHECK); CNI_PATH is required
 * except for DEL and VERSION. Throws CNI_INVALID_ENV naming every missing variable, in the
 * skel's order, or for a container ID or interface name the skel would refuse.
 */
export function parseCniEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = readCommand(env);
  // The Go skel's order (CONTAINERID, NETNS, IFNAME, PATH), so the message reads the same.
  const perCommand = command === 'ADD' || command === 'DEL' || command === 'CHECK';
  const required: string[] = [];
  if (perCommand) required.push('CNI_CONTAINERID');
  if (command === 'ADD' || command === 'CHECK') required.push('CNI_NETNS');
  if (perCommand) required.push('CNI_IFNAME');
  if (command !== 'DEL' && command !== 'VERSION') required.push('CNI_PATH');
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new CidrpoolError(
      'CNI_INVALID_ENV',
      `required env variables [${missing.join(',')}] missing`,
    );
  }
  if (perCommand) {
    checkContainerId(env.CNI_CONTAINERID!);
    checkIfName(env.CNI_IFNAME!);
  }
  return {
    command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifName: env.CNI_IFNAME ?? '',
    args: parseCniArgs(env.CNI_ARGS),
    path: env.CNI_PATH ?? '',
  };
}
