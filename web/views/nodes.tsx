// Nodes: blocks, addresses, borrowed and tunnel addresses per node, sortable by any column.
import { useState } from 'preact/hooks';
import type { NodeView, Snapshot } from '../../src/http/api-types.js';
import { clockTime, groupDigits } from '../format.js';
import { routeHref } from '../route.js';

type Column = 'name' | 'blocks' | 'addresses' | 'borrowed' | 'tunnel';
const COLUMNS: readonly [Column, string][] = [
  ['name', 'Node'],
  ['blocks', 'Blocks'],
  ['addresses', 'Addresses'],
  ['borrowed', 'Borrowed'],
  ['tunnel', 'Tunnel addresses'],
];

const key = (n: NodeView, c: Column): string | number =>
  c === 'name' ? n.name : c === 'tunnel' ? n.tunnelAddresses.length : n[c];

export function NodesView({ snapshot }: { snapshot: Snapshot }) {
  const [sort, setSort] = useState<{ by: Column; descending: boolean }>({
    by: 'addresses',
    descending: true,
  });
  const pending = snapshot.checkPending;
  const rows = [...snapshot.nodes].sort((a, b) => {
    const x = key(a, sort.by);
    const y = key(b, sort.by);
    const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1;
    return sort.descending ? -c : c;
  });
  return (
    <section aria-labelledby="nodes-title">
      <h1 id="nodes-title">Nodes</h1>
      <p class="hint">
        Addresses: allocations whose <code>node</code> attribute names the node (as{' '}
        <code>ipam check</code> counts them); borrowed: those in another node's block (
        <code>ipam show --show-borrowed</code>).{' '}
        {snapshot.checkPending ? (
          <strong data-testid="check-pending">
            Checking… addresses, borrowed and tunnel addresses appear when the first{' '}
            <code>ipam check</code> ends; blocks are live.
          </strong>
        ) : (
          <>
            Addresses, borrowed and tunnel addresses are as of the check at{' '}
            {clockTime(snapshot.checkedAt)}; blocks are live.
          </>
        )}
      </p>
      {rows.length === 0 ? (
        <p>No nodes yet.</p>
      ) : (
        <div class="table-wrap">
          <table data-testid="nodes-table">
            <thead>
              <tr>
                {COLUMNS.map(([c, label]) => (
                  <th
                    scope="col"
                    key={c}
                    class={c === 'name' ? '' : 'num'}
                    aria-sort={
                      sort.by === c ? (sort.descending ? 'descending' : 'ascending') : 'none'
                    }
                  >
                    <button
                      type="button"
                      class="sort"
                      onClick={() =>
                        setSort((s) => ({
                          by: c,
                          descending: s.by === c ? !s.descending : c !== 'name',
                        }))
                      }
                    >
                      {label}
                      <span aria-hidden="true">
                        {sort.by === c ? (sort.descending ? ' ▼' : ' ▲') : ' ↕'}
                      </span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((n) => (
                <tr key={n.name} data-node={n.name}>
                  <th scope="row">
                    <a href={routeHref('search', undefined, { q: n.name })}>{n.name}</a>
                    {!n.registered && (
                      <span class="tag tag-off" title="no Node resource has this name">
                        no Node resource
                      </span>
                    )}
                  </th>
                  <td class="num" data-field="blocks">
                    {groupDigits(n.blocks)}
                  </td>
                  <td class="num" data-field="addresses">
                    {pending ? '…' : groupDigits(n.addresses)}
                  </td>
                  <td class="num" data-field="borrowed">
                    {pending ? '…' : groupDigits(n.borrowed)}
                  </td>
                  <td class="num mono" data-field="tunnel">
                    {pending
                      ? '…'
                      : n.tunnelAddresses.length === 0
                        ? '—'
                        : n.tunnelAddresses.join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
