// What `calicoctl ipam show` prints (surfaces.md §2.1, v3.32.1 layout).
import type {
  AllocationInfo,
  BorrowedAllocation,
  IpamConfig,
  PoolUtilization,
} from '../../ipam/types.js';
import { formatCountWithPercent, formatG5 } from './numbers.js';
import { renderBoxTable } from './tablewriter.js';

const USAGE_HEADERS = ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'];

function usageRow(grouping: string, cidr: string, total: bigint, inUse: bigint): string[] {
  const free = total - inUse;
  return [
    grouping,
    cidr,
    formatG5(total),
    formatCountWithPercent(inUse, total),
    formatCountWithPercent(free, total),
  ];
}

/**
 * The pools table; with `showBlocks` each pool row is followed by its blocks. The orphan group
 * (no pool name) has no row of its own: its blocks appear only with `showBlocks`. IPS FREE is
 * total minus in use, so reserved addresses count as free (as in v3.32.1).
 */
export function renderUtilization(pools: readonly PoolUtilization[], showBlocks: boolean): string {
  const rows: string[][] = [];
  for (const pool of pools) {
    if (pool.name !== undefined)
      rows.push(usageRow('IP Pool', pool.cidr, pool.capacity, pool.inUse));
    if (!showBlocks) continue;
    for (const block of pool.blocks)
      rows.push(usageRow('Block', block.cidr, block.capacity, block.inUse));
  }
  return renderBoxTable(USAGE_HEADERS, rows);
}

/** TYPE and ALLOCATED-TO of a borrowed allocation, from its attributes. */
function describeOwner(attrs: Readonly<Record<string, string>>): [string, string] {
  const ns = attrs.namespace ?? '';
  if (attrs['vmi-name'] !== undefined) return ['vmi', `${ns}/${attrs['vmi-name']}`];
  if (attrs.pod !== undefined) return ['pod', `${ns}/${attrs.pod}`];
  return [attrs.type ?? '', ''];
}

/** The --show-borrowed table, plus the note about allocations without a node attribute. */
export function renderBorrowed(
  borrowed: readonly BorrowedAllocation[],
  withoutNode: number,
): string {
  const rows = borrowed.map((b) => {
    const [type, allocatedTo] = describeOwner(b.attrs);
    return [b.ip, b.borrowingNode, b.blockCidr, b.blockOwner, type, allocatedTo];
  });
  let out = renderBoxTable(
    ['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'],
    rows,
  );
  if (withoutNode > 0) {
    out +=
      `\nNote: found ${withoutNode} IP allocations without an explicit node association. ` +
      'Unable to determine if they are borrowed.\n';
  }
  return out;
}

/**
 * The --show-configuration table. KubeVirtVMAddressPersistence prints `Enabled`/`Disabled`
 * (calicoctl prints a Go pointer there); IPCooldownSeconds is the HEAD row.
 */
export function renderConfiguration(config: IpamConfig): string {
  return renderBoxTable(
    ['PROPERTY', 'VALUE'],
    [
      ['StrictAffinity', String(config.strictAffinity)],
      ['AutoAllocateBlocks', String(config.autoAllocateBlocks)],
      ['MaxBlocksPerHost', String(config.maxBlocksPerHost)],
      ['KubeVirtVMAddressPersistence', config.kubeVirtVMAddressPersistence ?? 'Enabled'],
      ['IPCooldownSeconds', String(config.ipCooldownSeconds)],
    ],
  );
}

function attributeLines(attrs: Readonly<Record<string, string>>): string[] {
  return Object.keys(attrs)
    .sort()
    .map((key) => `  ${key}: ${attrs[key]}`);
}

/** `ipam show --ip`: the v3.32.1 handle and owner attribute sections. */
export function renderAllocation(ip: string, info: AllocationInfo | undefined): string {
  if (!info) return `${ip} is not assigned\n`;
  const lines = [`IP ${ip} is in use`, `Handle ID: ${info.handleId ?? '<none>'}`];
  const active = attributeLines(info.attrs);
  if (active.length === 0) lines.push('No Active Owner attributes defined');
  else lines.push('Active Owner Attributes:', ...active);
  if (info.alternateAttrs && Object.keys(info.alternateAttrs).length > 0) {
    lines.push('Alternate Owner Attributes:', ...attributeLines(info.alternateAttrs));
  }
  return `${lines.join('\n')}\n`;
}
