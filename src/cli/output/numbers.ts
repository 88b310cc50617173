// Number formatting of `calicoctl ipam show` (surfaces.md §2.1): Go's `%.5g` and `%.0f%%`.
// Counts are bigints, so both are computed exactly on integers instead of through floats, which
// also gives Go's round-half-to-even where JS toPrecision/toFixed round half up.

/** Round a non-negative integer's decimal digits to `keep` significant digits, half to even. */
function roundDigits(digits: string, keep: number): { digits: string; carry: boolean } {
  if (digits.length <= keep) return { digits, carry: false };
  const head = digits.slice(0, keep);
  const rest = digits.slice(keep);
  const first = rest.charCodeAt(0) - 48;
  const tail = rest.slice(1);
  const tie = first === 5 && /^0*$/.test(tail);
  const up =
    first > 5 || (first === 5 && !tie) || (tie && (head.charCodeAt(keep - 1) - 48) % 2 === 1);
  if (!up) return { digits: head, carry: false };
  const bumped = (BigInt(head) + 1n).toString();
  return bumped.length > keep
    ? { digits: bumped.slice(0, keep), carry: true }
    : { digits: bumped, carry: false };
}

/** Go `fmt.Sprintf("%.5g", float64(n))` for an integer count: `64`, `65536`, `1.3107e+05`. */
export function formatG5(n: bigint): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString();
  const sign = negative ? '-' : '';
  let exponent = digits.length - 1;
  if (exponent < 5) return sign + digits; // integers below 1e5 print in full
  const rounded = roundDigits(digits, 5);
  if (rounded.carry) exponent += 1;
  const mantissa = rounded.digits.replace(/0+$/, '');
  const fraction = mantissa.length > 1 ? `.${mantissa.slice(1)}` : '';
  return `${sign}${mantissa[0]}${fraction}e+${String(exponent).padStart(2, '0')}`;
}

/** 100·part/total rounded to an integer, half to even (Go `%.0f`); 0 when total is 0. */
export function percentHalfEven(part: bigint, total: bigint): bigint {
  if (total === 0n) return 0n;
  const numerator = 100n * part;
  let q = numerator / total;
  const twiceRemainder = 2n * (numerator % total);
  if (twiceRemainder > total || (twiceRemainder === total && q % 2n === 1n)) q += 1n;
  return q;
}

/** `5 (8%)`: a count with its share of the total, as `ipam show` prints it. */
export function formatCountWithPercent(part: bigint, total: bigint): string {
  return `${formatG5(part)} (${percentHalfEven(part, total)}%)`;
}
