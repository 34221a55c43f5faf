/** A source could not produce a value; the resolver adds the variable and position. */
export class VariableSourceError extends Error {}
