// YAML as calicoctl prints it (surfaces.md §1.6): JSON converted by sigs.k8s.io/yaml, i.e.
// go-yaml v2. Block style, map keys sorted with go-yaml's key order, sequences not indented under
// their key, each string in the style go-yaml picks (go-yaml-scalar.ts): quoted when YAML 1.1
// would read it as another type ("123", "true", "y"), single-quoted when it starts with an
// indicator ('!all()'), and long strings folded past column 80 as go-yaml folds them
// (go-yaml-emit.ts).
import { emitGoYaml } from './go-yaml-emit.js';

const isLetter = (ch: string): boolean => /\p{L}/u.test(ch);
const isDigit = (ch: string): boolean => ch >= '0' && ch <= '9';

/**
 * go-yaml v2 `keyList.Less` for string keys: letters compare by code point, non-letters sort
 * before letters, and runs of digits compare as numbers (so `9` < `10`).
 */
export function compareYamlKeys(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]! < br[i]! ? -1 : 1;
    if (al || bl) return bl ? -1 : 1;
    let an = 0n;
    let bn = 0n;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++)
      an = an * 10n + BigInt(ar[ai]!.charCodeAt(0) - 48);
    for (; bi < br.length && isDigit(br[bi]!); bi++)
      bn = bn * 10n + BigInt(br[bi]!.charCodeAt(0) - 48);
    if (an !== bn) return an < bn ? -1 : 1;
    if (ai !== bi) return ai < bi ? -1 : 1;
    return ar[i]! < br[i]! ? -1 : 1;
  }
  return ar.length === br.length ? 0 : ar.length < br.length ? -1 : 1;
}

/** Render a value as calicoctl's YAML output (ends with a newline). */
export function renderYaml(value: unknown): string {
  return emitGoYaml(value, compareYamlKeys);
}
