// `cidrpool ipam split N --cidr=CIDR | --name=POOL` (surfaces.md §2.5): replace one pool by N
// equal child pools named split-<name>-<i>, keeping the blocks and their affinities.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { TxnCondition, TxnOperation } from '../../datastore/api.js';
import { resourceKey } from '../../datastore/keys.js';
import { encodeResource, formatTimestamp } from '../../client/stored-form.js';
import { CidrpoolError } from '../../errors/index.js';
import { bitsOf, formatCidr, parseCidr, splitCidr } from '../../net/index.js';
import {
  DEFAULT_BLOCK_SIZE,
  formatValidationMessage,
  validateResource,
  withDefaults,
  type IPPool,
} from '../../resources/index.js';
import { withBackend, type Backend } from '../backend.js';
import { isDatastoreLocked } from '../cluster-info.js';
import { errorMessage } from '../errors.js';
import { writeOut } from '../io.js';
import { addDatastoreOptions } from '../options.js';
import { startProgress } from '../progress.js';

interface SplitOptions {
  readonly cidr?: string;
  readonly name?: string;
  readonly config?: string;
}

const fail = (message: string): never => {
  throw new CidrpoolError('CLI_USAGE', message);
};

async function findPool(backend: Backend, options: SplitOptions): Promise<IPPool> {
  if (options.name !== undefined) {
    try {
      return (await backend.client.get('IPPool', options.name)) as IPPool;
    } catch (err) {
      return fail(`unable to find IP pool with name ${options.name}: ${errorMessage(err)}`);
    }
  }
  const { items } = await backend.client.list('IPPool');
  const pool = items.find((p) => p.kind === 'IPPool' && p.spec.cidr === options.cidr);
  // calicoctl interpolates the (empty) pool name here, hence the two spaces.
  return (
    (pool as IPPool | undefined) ??
    fail(`unable to find IP pool  covering the specified CIDR ${options.cidr}`)
  );
}

/** The child CIDRs; checked before anything is changed (calicoctl disables the pool first). */
function childCidrs(pool: IPPool, numberText: string): string[] {
  const cidrText = pool.spec.cidr;
  if (!/^\d+$/.test(numberText)) {
    fail(
      `error reading number to split IP pools into. ${numberText} is not a valid number: strconv.Atoi: parsing "${numberText}": invalid syntax`,
    );
  }
  const n = Number(numberText);
  const prefix = `error splitting the CIDR ${cidrText} into ${n} CIDRs:`;
  // calicoctl accepts 0 (log2(0) is -Inf) and then deletes the pool; cidrpool wants N >= 2.
  if (n < 2 || !Number.isSafeInteger(n) || (n & (n - 1)) !== 0) {
    fail(`${prefix} number to split CIDR into is not a valid power of 2: ${n}`);
  }
  const cidr = parseCidr(cidrText);
  const childPrefix = cidr.prefix + Math.log2(n);
  if (childPrefix > bitsOf(cidr.family))
    fail(`${prefix} the CIDR ${cidrText} is not large enough to be split into ${n} parts`);
  const blockSize = pool.spec.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family];
  if (childPrefix > blockSize) {
    fail(
      `${prefix} each part (/${childPrefix}) would be smaller than the pool's block size (/${blockSize})`,
    );
  }
  return splitCidr(cidr, n).map(formatCidr);
}

/** `split-<old>-<i>`, with the old name cut to 245 characters when the result exceeds 253. */
function childName(oldName: string, i: number): string {
  const name = `split-${oldName}-${i}`;
  return name.length > 253 ? `split-${oldName.slice(0, 245)}-${i}` : name;
}

async function runSplit(numberText: string, options: SplitOptions): Promise<void> {
  if (options.cidr === undefined && options.name === undefined) {
    fail('no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split');
  }
  const lines = await withBackend(options, async (backend) => {
    if (!(await isDatastoreLocked(backend.store))) {
      throw new CidrpoolError(
        'CLI_NOT_LOCKED',
        'datastore is not locked. Run the `cidrpool datastore migrate lock` command in order split the IP pools',
      );
    }
    const pool = await findPool(backend, options);
    const cidrs = childCidrs(pool, numberText);
    const children: IPPool[] = cidrs.map((cidr, i) =>
      withDefaults({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: {
          name: childName(pool.metadata.name, i),
          labels: pool.metadata.labels,
          annotations: pool.metadata.annotations,
        },
        spec: { ...pool.spec, cidr, disabled: false },
      }),
    );
    for (const child of children) {
      const issues = validateResource(child);
      if (issues.length > 0) fail(`${child.metadata.name}: ${formatValidationMessage(issues)}`);
    }
    let current = pool;
    if (!pool.spec.disabled) {
      try {
        current = (await backend.client.update({
          ...pool,
          spec: { ...pool.spec, disabled: true },
        })) as IPPool;
      } catch {
        fail(`error disabling IP pool ${pool.spec.cidr}`);
      }
    }
    // One transaction: the children appear and the old pool goes at once, without the overlap
    // check and without releasing affinities (libcalico's UnsafeCreate / UnsafeDelete).
    const progress = startProgress('Splitting', children.length);
    const now = formatTimestamp(Date.now());
    const conditions: TxnCondition[] = [
      {
        key: resourceKey('IPPool', current.metadata.name),
        revision: current.metadata.resourceVersion!,
      },
    ];
    const operations: TxnOperation[] = [
      { op: 'delete', key: resourceKey('IPPool', current.metadata.name) },
    ];
    for (const child of children) {
      const key = resourceKey('IPPool', child.metadata.name);
      conditions.push({ key, absent: true });
      operations.push({
        op: 'put',
        key,
        value: encodeResource(child, { uid: randomUUID(), creationTimestamp: now }),
      });
      progress.advance();
    }
    try {
      await backend.store.txn(conditions, operations);
    } finally {
      progress.stop();
    }
    return [
      `IP Pool ${pool.metadata.name} was successfully split into ${children.length} smaller pools.`,
      ...children.map((c) => `Created ${c.metadata.name} with CIDR ${c.spec.cidr}.\n`),
      'Please refer to the documentation for final steps.',
    ];
  });
  // calicoctl prints no newline after the first sentence nor after the last.
  writeOut(lines.join(''));
}

/** Register `ipam split`. */
export function addIpamSplitCommand(ipam: Command): void {
  const command = ipam
    .command('split')
    .description(
      'Split the IP pool specified by the CIDR into the specified number of smaller IPPools.',
    )
    .argument('<NUMBER>', 'number of child pools: a power of two, at least 2')
    .option('--cidr <CIDR>', 'the pool to split, by its exact spec.cidr')
    .option('--name <POOL_NAME>', 'the pool to split, by name');
  addDatastoreOptions(command);
  command.addHelpText(
    'after',
    '\nThe datastore must be locked first: cidrpool datastore migrate lock.\n',
  );
  command.action((n: string, options: SplitOptions) => runSplit(n, options));
}
