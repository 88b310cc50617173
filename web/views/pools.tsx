// Pools: every pool with its modes, flags, addresses and blocks, and a utilisation bar.
import type { PoolView, Snapshot } from '../../src/http/api-types.js';
import { groupDigits, percent, shortCount } from '../format.js';
import { routeHref } from '../route.js';
import { Bar } from './bar.js';
import { TableHead } from './table-head.js';

function modes(p: PoolView): string[] {
  const out: string[] = [];
  if (p.ipipMode !== 'Never') out.push(`IPIP ${p.ipipMode}`);
  if (p.vxlanMode !== 'Never') out.push(`VXLAN ${p.vxlanMode}`);
  if (out.length === 0) out.push('no encapsulation');
  return out;
}

function flags(p: PoolView): string[] {
  const out: string[] = [];
  if (p.natOutgoing) out.push('NAT outgoing');
  if (p.disableBGPExport) out.push('no BGP export');
  if (p.assignmentMode === 'Manual') out.push('manual assignment');
  if (p.allowedUses.join() !== 'Workload,Tunnel') out.push(`uses: ${p.allowedUses.join(', ')}`);
  if (p.nodeSelector !== 'all()') out.push(`nodes: ${p.nodeSelector}`);
  return out;
}

export function PoolsView({ snapshot }: { snapshot: Snapshot }) {
  const blocks = snapshot.pools.reduce((s, p) => s + p.blocksClaimed, 0);
  const inUse = snapshot.pools.reduce((s, p) => s + BigInt(p.inUse), 0n);
  return (
    <section aria-labelledby="pools-title">
      <h1 id="pools-title">Pools</h1>
      <dl class="cards">
        <div class="card">
          <dt>Pools</dt>
          <dd data-testid="total-pools">{snapshot.pools.length}</dd>
        </div>
        <div class="card">
          <dt>Blocks claimed</dt>
          <dd data-testid="total-blocks">{groupDigits(blocks)}</dd>
        </div>
        <div class="card">
          <dt>Addresses in use</dt>
          <dd data-testid="total-in-use">{groupDigits(String(inUse))}</dd>
        </div>
        <div class="card">
          <dt>Nodes</dt>
          <dd>{snapshot.nodes.length}</dd>
        </div>
      </dl>
      {snapshot.pools.length === 0 ? (
        <p>
          No IP pools yet: create one with <code>cidrpool create -f pool.yaml</code>.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="pools" data-testid="pools-table">
            <TableHead
              columns={[
                'Pool',
                'CIDR',
                'Modes and flags',
                ['Addresses in use / total', 'num'],
                ['Blocks claimed / possible', 'num'],
                'Utilisation',
              ]}
            />
            <tbody>
              {snapshot.pools.map((p) => (
                <tr key={p.name} class={p.disabled ? 'disabled' : ''} data-pool={p.name}>
                  <th scope="row">
                    <a href={routeHref('map', p.name)}>{p.name}</a>
                    {p.disabled && <span class="tag tag-off">disabled</span>}
                  </th>
                  <td class="mono" data-field="cidr">
                    {p.cidr}
                    <div class="sub">/{p.blockSize} blocks</div>
                  </td>
                  <td>
                    {[...modes(p), ...flags(p)].map((t) => (
                      <span class="tag" key={t}>
                        {t}
                      </span>
                    ))}
                  </td>
                  <td class="num">
                    <span data-field="in-use">{groupDigits(p.inUse)}</span> /{' '}
                    <span data-field="capacity" title={groupDigits(p.capacity)}>
                      {shortCount(p.capacity)}
                    </span>
                  </td>
                  <td class="num">
                    <span data-field="blocks">{groupDigits(p.blocksClaimed)}</span> /{' '}
                    <span title={groupDigits(p.blocksPossible)}>
                      {shortCount(p.blocksPossible)}
                    </span>
                  </td>
                  <td>
                    <Bar
                      fraction={p.fill}
                      label={`${p.name}: ${percent(p.fill)} of addresses in use`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {snapshot.orphanBlocks.length > 0 && (
        <p class="banner warn" role="note">
          {snapshot.orphanBlocks.length} block(s) overlap no pool:{' '}
          {snapshot.orphanBlocks.map((b) => b.cidr).join(', ')} (listed by{' '}
          <code>cidrpool ipam show --show-blocks</code> after the pools).
        </p>
      )}
    </section>
  );
}
