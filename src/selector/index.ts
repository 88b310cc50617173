// Public surface of src/selector. CONTRACT: other modules import only from here.
const todo = (): never => {
  throw new Error('src/selector: not implemented yet');
};

/** A parsed Calico selector. */
export interface Selector {
  /** The text as given. */
  readonly source: string;
  /** Evaluate against a label map (absent labels follow Calico's truth rules). */
  matches(labels: Readonly<Record<string, string>>): boolean;
  /** Canonical form (surfaces.md §4.4); `all()` for an empty selector. */
  toString(): string;
}

/** Parse a selector. Throws CidrpoolError SEL_* with position (column) and a caret excerpt. */
export const parseSelector = (_text: string): Selector => todo();
/** Parse, returning undefined instead of throwing. */
export const tryParseSelector = (_text: string): Selector | undefined => todo();
