// The view in the address bar: #pools, #map/<pool>?block=<cidr>, #nodes, #search?q=, #problems,
// #forecast. Links and the back button work as usual.
import type { Snapshot } from '../src/http/api-types.js';

export type ViewName = 'pools' | 'map' | 'nodes' | 'search' | 'problems' | 'forecast';

export interface Route {
  readonly view: ViewName;
  /** #map/<pool> */
  readonly arg?: string;
  readonly params: URLSearchParams;
}

const VIEWS: readonly ViewName[] = ['pools', 'map', 'nodes', 'search', 'problems', 'forecast'];

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const [view, ...rest] = path.split('/');
  const name = VIEWS.includes(view as ViewName) ? (view as ViewName) : 'pools';
  const arg = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
  return { view: name, ...(arg ? { arg } : {}), params };
}

/** What the views that read the address bar and the API are given. */
export interface RoutedViewProps {
  readonly snapshot: Snapshot;
  readonly route: Route;
  readonly token: string | undefined;
}

export function routeHref(view: ViewName, arg?: string, params?: Record<string, string>): string {
  const query = params ? new URLSearchParams(params).toString() : '';
  return `#${view}${arg ? `/${encodeURIComponent(arg)}` : ''}${query ? `?${query}` : ''}`;
}
