// Number and time texts shared by the views.

/** 1234567 -> "1,234,567"; decimal strings too (IPv6 sizes), exactly. */
export function groupDigits(n: number | string): string {
  const s = String(n);
  if (!/^\d+$/.test(s)) return s;
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A big decimal string in short form when it has more than 12 digits: "1.2089e24". */
export function shortCount(s: string): string {
  if (s.length <= 12) return groupDigits(s);
  return `${s[0]}.${s.slice(1, 5)}e${s.length - 1}`;
}

/** Percent with one decimal below 10 %, none above: "0.4 %", "37 %". */
export function percent(fraction: number): string {
  const p = fraction * 100;
  if (p > 0 && p < 0.1) return '<0.1 %';
  return `${p < 10 ? p.toFixed(1) : Math.round(p)} %`;
}

/** Hours as a rough human duration: "40 min", "5.2 h", "12 days", "3.1 years". */
export function duration(hours: number): string {
  if (!Number.isFinite(hours)) return 'never';
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min`;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  const days = hours / 24;
  if (days < 365) return `${Math.round(days)} days`;
  const years = days / 365;
  return years > 1000 ? 'more than 1,000 years' : `${years.toFixed(1)} years`;
}

export const clockTime = (ms: number): string => new Date(ms).toLocaleTimeString();

/** IPv4 text of a 32-bit number. */
export const ipv4Text = (v: number): string =>
  `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** IPv4 text -> 32-bit number, or undefined. */
export function ipv4Number(text: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) return undefined;
  return ((+m[1]! << 24) >>> 0) + (+m[2]! << 16) + (+m[3]! << 8) + +m[4]!;
}
