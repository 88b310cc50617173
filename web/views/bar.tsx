// A utilisation bar with its percentage as text (colour is never the only signal): the fill
// turns amber above 75 % and red above 90 %, and the text says the number.
import { percent } from '../format.js';

export function Bar({ fraction, label }: { fraction: number; label: string }) {
  const level = fraction >= 0.9 ? 'high' : fraction >= 0.75 ? 'mid' : 'low';
  return (
    <div class="bar-row">
      <div
        class={`bar bar-${level}`}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 1000) / 10}
        aria-label={label}
      >
        <div class="bar-fill" style={{ width: `${Math.min(100, fraction * 100)}%` }} />
      </div>
      <span class="bar-text">
        {percent(fraction)}
        {level === 'high' ? ' ⚠' : ''}
      </span>
    </div>
  );
}
