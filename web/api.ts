// Talking to the dashboard server: JSON GETs with the bearer token, and the event stream read
// with fetch (EventSource cannot send an Authorization header).
import type { ApiError } from '../src/http/api-types.js';

const TOKEN_KEY = 'cidrpool-dashboard-token';

/** The token the user typed, kept for this tab only. */
export const storedToken = (): string | undefined => sessionStorage.getItem(TOKEN_KEY) ?? undefined;
export const storeToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);

/** The server refused the token: `missing` or `wrong` (ApiError.token). */
export class AuthError extends Error {
  constructor(
    readonly kind: 'missing' | 'wrong',
    message: string,
  ) {
    super(message);
  }
}

const headers = (token: string | undefined): HeadersInit =>
  token ? { Authorization: `Bearer ${token}` } : {};

/** GET a JSON API path. Throws AuthError on 401, Error with the server's message otherwise. */
export async function apiGet<T>(
  path: string,
  token: string | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const res = await fetch(path, { headers: headers(token), signal, cache: 'no-store' });
  if (res.ok) return (await res.json()) as T;
  let body: ApiError | undefined;
  try {
    body = (await res.json()) as ApiError;
  } catch {
    // Not JSON: the status says enough.
  }
  if (res.status === 401)
    throw new AuthError(body?.token ?? 'missing', body?.error ?? 'unauthorised');
  throw new Error(body?.error ?? `${path}: HTTP ${res.status}`);
}

export type StreamState = 'connecting' | 'live' | 'offline';

/**
 * Follow /api/events until `signal` aborts: `onVersion` hears each snapshot version, `onState`
 * the connection state. Reconnects after 1, 2, 4... (at most 10) seconds.
 */
export async function followEvents(
  token: string | undefined,
  signal: AbortSignal,
  onVersion: (version: number) => void,
  onState: (state: StreamState, error?: unknown) => void,
): Promise<void> {
  let delay = 1000;
  while (!signal.aborted) {
    onState('connecting');
    try {
      const res = await fetch('/api/events', {
        headers: headers(token),
        signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        const body = (await res.json()) as ApiError;
        onState('offline', new AuthError(body.token ?? 'missing', body.error));
        return;
      }
      if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
      onState('live');
      delay = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (\d+)$/m.exec(message);
          if (/^event: version$/m.test(message) && data) onVersion(Number(data[1]));
        }
      }
      throw new Error('the event stream ended');
    } catch (err) {
      if (signal.aborted) return;
      onState('offline', err);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
