/**
 * Parsed form of a string that contains `${...}` variables. Text parts have escapes
 * (`\${`) already cleared; variable parts keep their raw text for messages.
 */
export interface Template {
  parts: (string | VariableNode)[];
}

export interface VariableNode {
  /** The variable exactly as written, e.g. `${opt:stage, 'dev'}`. */
  raw: string;
  /** First choice followed by fallbacks, tried left to right. */
  sources: SourceNode[];
}

export type SourceNode = TypedSource | LiteralSource;

export interface TypedSource {
  kind: 'source';
  type: string;
  params: ParamNode[];
  address?: ParamNode;
}

export interface LiteralSource {
  kind: 'literal';
  value: string | number | boolean | null;
}

/** A param or address: a fixed value, or a template to resolve first (nesting). */
export type ParamNode = { value: unknown } | { template: Template };

/** True when the template is exactly one variable, whose value then keeps its type. */
export function isWholeValue(t: Template): t is { parts: [VariableNode] } {
  return t.parts.length === 1 && typeof t.parts[0] !== 'string';
}

export class VariableSyntaxError extends Error {}
