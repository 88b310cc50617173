import {
  OPERATOR_SPELLINGS,
  normalizeSetValues,
  type SelectorNode,
  type ValueComparison,
} from './ast.js';
import { SelectorSyntaxError } from './syntax-error.js';
import { describeToken, formatTokenGo, tokenizeSelector, type Token } from './tokenizer.js';

const VALUE_COMPARISONS: Partial<Record<Token['kind'], ValueComparison>> = {
  eq: 'eq',
  ne: 'ne',
  contains: 'contains',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
};

/**
 * Deepest nesting of parentheses. Calico has no limit (Go stacks grow); ours keeps the
 * recursion of the parser, printer and evaluator far from a RangeError on absurd input.
 */
export const MAX_NESTING = 1000;

/**
 * A recursive-descent parser over the token list, with Calico's precedence (surfaces.md §4.2):
 * `||` lowest, then `&&`, then a run of `!` in front of one operation or a parenthesised group.
 * The token list always ends with `eof`, so `at` never runs past it.
 */
class Parser {
  private at = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.at + ahead, this.tokens.length - 1)] as Token;
  }

  parseRoot(): SelectorNode {
    if (this.peek().kind === 'eof') return { kind: 'all' };
    const node = this.parseOr();
    if (this.peek().kind !== 'eof') {
      const rest = this.tokens.slice(this.at).map(formatTokenGo).join(' ');
      const next = this.peek();
      throw new SelectorSyntaxError(
        `unexpected content at end of selector [${rest}]`,
        next.offset,
        next.kind === 'rparen'
          ? 'found a ")" without a matching "("'
          : `found ${describeToken(next)}; join expressions with && or ||`,
      );
    }
    return node;
  }

  private parseOr(): SelectorNode {
    const operands = [this.parseAnd()];
    while (this.peek().kind === 'or') {
      this.at++;
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? (operands[0] as SelectorNode) : { kind: 'or', operands };
  }

  private parseAnd(): SelectorNode {
    const operands = [this.parseOperation()];
    while (this.peek().kind === 'and') {
      this.at++;
      operands.push(this.parseOperation());
    }
    return operands.length === 1 ? (operands[0] as SelectorNode) : { kind: 'and', operands };
  }

  private parseOperation(): SelectorNode {
    // Repeated `!`s cancel in pairs, as in Calico's parser: `!!a` is `a`.
    let negated = false;
    while (this.peek().kind === 'not') {
      negated = !negated;
      this.at++;
    }
    const node = this.parsePositive();
    if (!negated) return node;
    // `!(!a)` is `a` too: Calico keeps both nots and prints `!!a`, which reparses to `a`, so its
    // canonical form would not be a fixpoint.
    return node.kind === 'not' ? node.operand : { kind: 'not', operand: node };
  }

  private parsePositive(): SelectorNode {
    const token = this.peek();
    switch (token.kind) {
      case 'has':
        this.at++;
        return { kind: 'has', label: token.value };
      case 'all':
      case 'global':
        this.at++;
        return { kind: token.kind };
      case 'label':
        return this.parseComparison(token);
      case 'lparen': {
        if (++this.depth > MAX_NESTING) {
          throw new SelectorSyntaxError(
            'selector nested too deeply',
            token.offset,
            `at most ${MAX_NESTING} levels of parentheses`,
          );
        }
        this.at++;
        const inner = this.parseOr();
        this.depth--;
        const close = this.peek();
        if (close.kind !== 'rparen') {
          throw new SelectorSyntaxError(
            'expected )',
            close.offset,
            `found ${describeToken(close)}`,
          );
        }
        this.at++;
        return inner;
      }
      default:
        throw new SelectorSyntaxError(
          `unexpected token: ${formatTokenGo(token)}`,
          token.offset,
          token.kind === 'eof'
            ? 'the selector ends where an expression should start'
            : `found ${describeToken(token)} where an expression should start`,
        );
    }
  }

  /** `label <op> "value"` or `label [not] in {…}`; the tokenizer has ensured an operator follows. */
  private parseComparison(label: Token): SelectorNode {
    const operator = this.peek(1);
    const operand = this.peek(2);
    // Calico wants three tokens (label, operator, operand) before it looks at the operator; only
    // a label that ends the selector has fewer, since the list always ends with eof.
    if (operator.kind === 'eof') {
      throw new SelectorSyntaxError(
        'unexpected end of string looking for op',
        operator.offset,
        `label ${JSON.stringify(label.value)} needs an operator and a value, e.g. ${label.value} == "x"`,
      );
    }
    const comparison = VALUE_COMPARISONS[operator.kind];
    if (comparison !== undefined) {
      if (operand.kind !== 'string') {
        const fix =
          operand.kind === 'label'
            ? `; quote the value: ${label.value} ${OPERATOR_SPELLINGS[comparison]} "${operand.value}"`
            : '';
        throw new SelectorSyntaxError(
          'expected string',
          operand.offset,
          `found ${describeToken(operand)}${fix}`,
        );
      }
      this.at += 3;
      return { kind: comparison, label: label.value, value: operand.value };
    }
    if (operator.kind === 'in' || operator.kind === 'notIn') {
      if (operand.kind !== 'lbrace') {
        throw new SelectorSyntaxError(
          'expected set literal',
          operand.offset,
          `found ${describeToken(operand)}; write a set such as {"a", "b"}`,
        );
      }
      this.at += 3;
      return { kind: operator.kind, label: label.value, values: this.parseSetMembers() };
    }
    throw new SelectorSyntaxError(
      `expected operator after label ${JSON.stringify(label.value)}`,
      operator.offset,
      `found ${describeToken(operator)}; use ==, !=, in, not in, contains, starts with or ends with`,
    );
  }

  /** `"a", "b"` up to and including `}`; a trailing comma and an empty set are allowed. */
  private parseSetMembers(): string[] {
    const members: string[] = [];
    while (this.peek().kind === 'string') {
      members.push(this.peek().value);
      this.at++;
      if (this.peek().kind !== 'comma') break;
      this.at++;
    }
    const close = this.peek();
    if (close.kind !== 'rbrace') {
      throw new SelectorSyntaxError(
        'expected }',
        close.offset,
        `found ${describeToken(close)}; set members are quoted strings separated by commas`,
      );
    }
    this.at++;
    return normalizeSetValues(members);
  }
}

/**
 * Parses selector text into its tree. Tokenises the whole text first, so a tokenizer error
 * anywhere wins over a parser error earlier in the text, as in Calico.
 *
 * @returns `{kind: 'all'}` for an empty or whitespace-only selector.
 * @throws SelectorSyntaxError with Calico's wording and the offset of the problem.
 */
export function parseSelectorTree(text: string): SelectorNode {
  return new Parser(tokenizeSelector(text)).parseRoot();
}
