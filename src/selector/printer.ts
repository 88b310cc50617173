import { CidrpoolError } from '../errors/index.js';
import { OPERATOR_SPELLINGS, isValidLabel, normalizeSetValues, type SelectorNode } from './ast.js';

/** `"v"`, or `'v'` when v contains `"` (Calico ast.go appendLabelOpAndQuotedString). */
function quote(value: string): string {
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  // Selector strings have no escapes, so no literal can hold both quotes; only a tree built by
  // hand can get here.
  throw new CidrpoolError('INTERNAL', `selector value ${JSON.stringify(value)} has both quotes`);
}

function checkLabel(label: string): string {
  if (!isValidLabel(label)) {
    throw new CidrpoolError(
      'INTERNAL',
      `selector tree holds an invalid label ${JSON.stringify(label)}`,
    );
  }
  return label;
}

/**
 * Prints a selector tree in Calico's canonical form (surfaces.md §4.4): single spaces around
 * operators, `"` quotes unless the value holds `"`, every `&&`/`||` group in parentheses, set
 * members sorted and de-duplicated. Parsing the result gives back an equal tree.
 *
 * @throws CidrpoolError INTERNAL for a hand-built tree that no selector text can express
 *   (an invalid label, a value with both quote characters, an empty `&&`/`||` group).
 */
export function printSelectorNode(node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${checkLabel(node.label)})`;
    case 'not':
      return `!${printSelectorNode(node.operand)}`;
    case 'and':
    case 'or': {
      if (node.operands.length === 0) {
        throw new CidrpoolError('INTERNAL', `selector tree holds an empty ${node.kind} group`);
      }
      const joined = node.operands
        .map(printSelectorNode)
        .join(node.kind === 'and' ? ' && ' : ' || ');
      return `(${joined})`;
    }
    case 'in':
    case 'notIn': {
      const members = normalizeSetValues(node.values).map(quote).join(', ');
      return `${checkLabel(node.label)} ${OPERATOR_SPELLINGS[node.kind]} {${members}}`;
    }
    default:
      return `${checkLabel(node.label)} ${OPERATOR_SPELLINGS[node.kind]} ${quote(node.value)}`;
  }
}
