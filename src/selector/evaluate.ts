import type { SelectorNode } from './ast.js';

/** A label's value, or undefined when absent; own properties only, so `constructor` is no label. */
function getLabel(labels: Readonly<Record<string, string>>, label: string): string | undefined {
  return Object.hasOwn(labels, label) ? labels[label] : undefined;
}

/**
 * Evaluates a selector tree against a label map with Calico's truth rules (surfaces.md §4.3):
 * `==`, `in`, `contains`, `starts with`, `ends with` and `has` need the label present; `!=` and
 * `not in` are true when it is absent; `all()` and `global()` are always true. Comparisons are
 * exact and case-sensitive.
 */
export function evaluateSelectorNode(
  node: SelectorNode,
  labels: Readonly<Record<string, string>>,
): boolean {
  switch (node.kind) {
    case 'all':
    case 'global':
      return true;
    case 'not':
      return !evaluateSelectorNode(node.operand, labels);
    case 'and':
      return node.operands.every((operand) => evaluateSelectorNode(operand, labels));
    case 'or':
      return node.operands.some((operand) => evaluateSelectorNode(operand, labels));
    default:
      return compareLabel(node, getLabel(labels, node.label));
  }
}

function compareLabel(
  node: Extract<SelectorNode, { label: string }>,
  actual: string | undefined,
): boolean {
  switch (node.kind) {
    case 'has':
      return actual !== undefined;
    case 'eq':
      return actual === node.value;
    case 'ne':
      return actual !== node.value;
    case 'contains':
      return actual !== undefined && actual.includes(node.value);
    case 'startsWith':
      return actual !== undefined && actual.startsWith(node.value);
    case 'endsWith':
      return actual !== undefined && actual.endsWith(node.value);
    case 'in':
      return actual !== undefined && node.values.includes(actual);
    case 'notIn':
      return actual === undefined || !node.values.includes(actual);
  }
}
