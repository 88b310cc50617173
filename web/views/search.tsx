// Search: an address, pod, handle or node leads to its owner, block and pool.
import { useEffect, useState } from 'preact/hooks';
import type { SearchResult } from '../../src/http/api-types.js';
import { routeHref, type RoutedViewProps } from '../route.js';
import { useApi } from '../use-api.js';
import { Shortened } from './shortened.js';
import { TableHead } from './table-head.js';

export function SearchView({ snapshot, route, token }: RoutedViewProps) {
  const query = route.params.get('q') ?? '';
  const [text, setText] = useState(query);
  useEffect(() => setText(query), [query]);
  // Searched again with every new snapshot, so the answer stays live.
  const { data: result, error } = useApi<SearchResult>(
    query ? `/api/search?q=${encodeURIComponent(query)}` : undefined,
    token,
    snapshot.version,
  );
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search</h1>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = routeHref('search', undefined, { q: text.trim() });
        }}
      >
        <label for="q">Address, pod, handle or node</label>
        <div class="search-row">
          <input
            id="q"
            type="search"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            placeholder="10.1.0.5, shop/frontend-1, node-1…"
          />
          <button type="submit">Search</button>
        </div>
      </form>
      {error && (
        <p class="banner bad" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div aria-live="polite">
          {result.note && (
            <p class="banner" data-testid="search-note">
              {result.note}
            </p>
          )}
          {result.hits.length === 0 && !result.note && <p>Nothing matches “{result.query}”.</p>}
          {result.hits.length > 0 && (
            <div class="table-wrap">
              <table data-testid="search-table">
                <caption>
                  {result.hits.length} match{result.hits.length === 1 ? '' : 'es'} for “
                  {result.query}”{result.omitted > 0 ? ` (${result.omitted} more not shown)` : ''}
                </caption>
                <TableHead
                  columns={[
                    'Address',
                    'Pod',
                    'Owner',
                    'Handle',
                    'Node',
                    'Block',
                    'Pool',
                    'Matched',
                  ]}
                />
                <tbody>
                  {result.hits.map((h) => (
                    <tr key={`${h.ip}-${h.handle ?? ''}`}>
                      <td class="mono">{h.ip}</td>
                      <td>{h.pod ?? '—'}</td>
                      <td class="small">{h.owner}</td>
                      <td class="mono small">
                        <Shortened text={h.handle} />
                      </td>
                      <td class="nowrap">{h.node ?? '—'}</td>
                      <td class="mono">
                        {h.pool ? (
                          <a href={routeHref('map', h.pool, { block: h.block })}>{h.block}</a>
                        ) : (
                          h.block
                        )}
                      </td>
                      <td>{h.pool ?? 'no pool'}</td>
                      <td>{h.match}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
