// The dashboard page: header with the live state, a tab per view, and the token form when the
// server asks for one.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Snapshot } from '../src/http/api-types.js';
import {
  apiGet,
  AuthError,
  followEvents,
  storedToken,
  storeToken,
  type StreamState,
} from './api.js';
import { clockTime } from './format.js';
import { parseRoute, routeHref, type Route, type ViewName } from './route.js';
import { BlockMapView } from './views/block-map.js';
import { ForecastView } from './views/forecast.js';
import { NodesView } from './views/nodes.js';
import { PoolsView } from './views/pools.js';
import { ProblemsView } from './views/problems.js';
import { SearchView } from './views/search.js';

const TABS: readonly [ViewName, string][] = [
  ['pools', 'Pools'],
  ['map', 'Block map'],
  ['nodes', 'Nodes'],
  ['search', 'Search'],
  ['problems', 'Problems'],
  ['forecast', 'Forecast'],
];

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function TokenForm({
  refused,
  onToken,
}: {
  refused: 'missing' | 'wrong';
  onToken: (t: string) => void;
}) {
  const [value, setValue] = useState('');
  return (
    <main class="token-page">
      <form
        class="card token-card"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <h1>
          {refused === 'wrong'
            ? 'The access token was refused'
            : 'This dashboard needs an access token'}
        </h1>
        <p role="alert" class={refused === 'wrong' ? 'bad' : ''}>
          {refused === 'wrong'
            ? 'The server did not accept the token. Check the first line of the file given to cidrpool dashboard --token-file, and try again.'
            : 'It listens on a network address, so it asks for the bearer token from the file given to cidrpool dashboard --token-file.'}
        </p>
        <label for="token">Access token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          autoFocus
        />
        <button type="submit">Open the dashboard</button>
      </form>
    </main>
  );
}

function LiveBadge({ state, snapshot }: { state: StreamState; snapshot: Snapshot | undefined }) {
  const text =
    state === 'live'
      ? `Live · updated ${snapshot ? clockTime(snapshot.builtAt) : '…'}`
      : state === 'connecting'
        ? 'Connecting…'
        : 'Offline: retrying';
  return (
    <span class={`live live-${state}`} role="status" data-testid="live-state">
      <span aria-hidden="true" class="dot" />
      {text}
    </span>
  );
}

function App() {
  const route = useRoute();
  const [token, setToken] = useState(storedToken());
  const [refused, setRefused] = useState<'missing' | 'wrong' | undefined>();
  const [snapshot, setSnapshot] = useState<Snapshot>();
  const [stream, setStream] = useState<StreamState>('connecting');
  const [error, setError] = useState<string>();

  useEffect(() => {
    const abort = new AbortController();
    let latest = 0;
    let fetching = false;
    let wanted = 0;
    const refresh = async (): Promise<void> => {
      if (fetching) return;
      fetching = true;
      try {
        while (wanted > latest && !abort.signal.aborted) {
          const target = wanted;
          const s = await apiGet<Snapshot>('/api/snapshot', token, abort.signal);
          latest = Math.max(s.version, target);
          setSnapshot(s);
          setError(undefined);
        }
      } catch (err) {
        if (err instanceof AuthError) setRefused(err.kind);
        else if (!abort.signal.aborted) setError((err as Error).message);
      } finally {
        fetching = false;
      }
    };
    void followEvents(
      token,
      abort.signal,
      (version) => {
        wanted = Math.max(wanted, version);
        void refresh();
      },
      (state, err) => {
        setStream(state);
        if (err instanceof AuthError) setRefused(err.kind);
      },
    );
    return () => abort.abort();
  }, [token]);

  if (refused)
    return (
      <TokenForm
        refused={refused}
        onToken={(t) => {
          storeToken(t);
          setRefused(undefined);
          setToken(t);
        }}
      />
    );

  const problems = snapshot?.problems.problemCount ?? 0;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            ▦
          </span>
          <span>cidrpool</span>
          {snapshot && (
            <span class="store">
              {snapshot.datastore === 'etcdv3' ? 'etcd v3' : 'embedded store'}
            </span>
          )}
        </div>
        <LiveBadge state={stream} snapshot={snapshot} />
      </header>
      <nav class="tabs" aria-label="Views">
        {TABS.map(([view, label]) => (
          <a
            href={routeHref(view)}
            aria-current={route.view === view ? 'page' : undefined}
            key={view}
          >
            {label}
            {view === 'problems' &&
              snapshot &&
              (snapshot.checkPending ? (
                <span class="count" aria-label="checking">
                  …
                </span>
              ) : (
                <span
                  class={`count ${problems > 0 ? 'warn' : 'ok'}`}
                  aria-label={`${problems} problems`}
                >
                  {problems}
                </span>
              ))}
          </a>
        ))}
      </nav>
      <main id="content" tabIndex={-1}>
        {error && (
          <p class="banner bad" role="alert">
            {error}
          </p>
        )}
        {!snapshot ? (
          <p class="loading">Reading the datastore…</p>
        ) : route.view === 'pools' ? (
          <PoolsView snapshot={snapshot} />
        ) : route.view === 'map' ? (
          <BlockMapView snapshot={snapshot} route={route} token={token} />
        ) : route.view === 'nodes' ? (
          <NodesView snapshot={snapshot} />
        ) : route.view === 'search' ? (
          <SearchView snapshot={snapshot} route={route} token={token} />
        ) : route.view === 'problems' ? (
          <ProblemsView snapshot={snapshot} />
        ) : (
          <ForecastView snapshot={snapshot} />
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the boot message
render(<App />, root);
