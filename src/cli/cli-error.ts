/** Marks a CliError whichever copy of this module made it (the bundled CLI or dist/src). */
const brand = Symbol.for('nimbus.CliError');

/** An error the CLI prints as one line (no stack) before exiting with `exitCode`. */
export class CliError extends Error {
  readonly [brand] = true;

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }

  // The bundled CLI imports server, dev and invoke local from dist/src (scripts/bundle-cli.mjs),
  // so their errors are instances of another copy of this class.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (value as { [brand]?: unknown } | null)?.[brand] === true;
  }
}
