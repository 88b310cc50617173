// Forecast: the pace at which each pool's addresses are taken, when it runs out at that pace,
// and on which data that rests.
import type { ForecastView as Forecast, Snapshot } from '../../src/http/api-types.js';
import { duration, groupDigits, shortCount } from '../format.js';
import { TableHead } from './table-head.js';

function Sparkline({ f }: { f: Forecast }) {
  if (f.samples.length < 2) return <span class="sub">not enough samples yet</span>;
  const t0 = f.samples[0]!.at;
  const t1 = f.samples[f.samples.length - 1]!.at;
  const lo = Math.min(...f.samples.map((s) => s.inUse));
  const hi = Math.max(...f.samples.map((s) => s.inUse));
  const x = (at: number): number => (t1 === t0 ? 0 : ((at - t0) / (t1 - t0)) * 118 + 1);
  const y = (v: number): number => (hi === lo ? 15 : 29 - ((v - lo) / (hi - lo)) * 28);
  const points = f.samples.map((s) => `${x(s.at).toFixed(1)},${y(s.inUse).toFixed(1)}`).join(' ');
  return (
    <svg
      class="spark"
      viewBox="0 0 120 30"
      role="img"
      aria-label={`in use from ${lo} to ${hi} over ${f.samples.length} samples`}
    >
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}

const rateText = (r: number | undefined): string =>
  r === undefined
    ? 'unknown'
    : `${r >= 0 ? '+' : ''}${Math.abs(r) >= 10 ? Math.round(r) : r.toFixed(2)} / h`;

export function ForecastView({ snapshot }: { snapshot: Snapshot }) {
  return (
    <section aria-labelledby="forecast-title">
      <h1 id="forecast-title">Forecast</h1>
      <p class="hint">
        Net rate from samples of the in-use count this dashboard keeps (once a minute and on every
        change, last 6 h), once they span 15 minutes; until then from the <code>timestamp</code>{' '}
        attributes of the allocations alive now (last 24 h), which cannot see releases.
      </p>
      <div class="table-wrap">
        <table data-testid="forecast-table">
          <TableHead
            columns={[
              'Pool',
              ['In use', 'num'],
              ['Available', 'num'],
              ['Rate', 'num'],
              'Runs out in',
              'Trend',
              'Basis',
            ]}
          />
          <tbody>
            {snapshot.forecast.map((f) => {
              const soon = f.hoursToExhaustion !== undefined && f.hoursToExhaustion < 24 * 7;
              return (
                <tr key={f.pool} data-pool={f.pool}>
                  <th scope="row">
                    {f.pool}
                    <div class="sub mono">{f.cidr}</div>
                  </th>
                  <td class="num">{groupDigits(f.inUse)}</td>
                  <td class="num" title={groupDigits(f.available)}>
                    {shortCount(f.available)}
                  </td>
                  <td class="num" data-field="rate">
                    {rateText(f.ratePerHour)}
                  </td>
                  <td data-field="eta" class={soon ? 'bad' : ''}>
                    {soon && <span aria-hidden="true">⚠ </span>}
                    {f.hoursToExhaustion !== undefined
                      ? duration(f.hoursToExhaustion)
                      : f.ratePerHour === undefined
                        ? 'no basis yet'
                        : 'not at this pace (not growing)'}
                  </td>
                  <td>
                    <Sparkline f={f} />
                  </td>
                  <td class="basis">
                    <span class="tag">
                      {f.method === 'samples'
                        ? 'samples'
                        : f.method === 'timestamps'
                          ? 'timestamps'
                          : 'none'}
                    </span>{' '}
                    {f.basis}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
