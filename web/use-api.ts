// A JSON API answer that follows its path and the snapshot version: read again whenever either
// changes (so a view stays live), the previous request aborted.
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from './api.js';

export interface ApiAnswer<T> {
  readonly data?: T;
  readonly error?: string;
}

/** GET `path` (nothing when undefined) with the token, again at every new `version`. */
export function useApi<T>(
  path: string | undefined,
  token: string | undefined,
  version: number,
): ApiAnswer<T> {
  const [answer, setAnswer] = useState<ApiAnswer<T>>({});
  useEffect(() => {
    if (path === undefined) {
      setAnswer({});
      return;
    }
    const abort = new AbortController();
    apiGet<T>(path, token, abort.signal)
      .then((data) => setAnswer({ data }))
      .catch((e: Error) => {
        if (!abort.signal.aborted) setAnswer({ error: e.message });
      });
    return () => abort.abort();
  }, [path, token, version]);
  return answer;
}
