/**
 * Each function's reservedConcurrency as the current deployments set it, kept where the parts
 * that size their work per function (the async worker) read it without a store round trip.
 */
export class ReservedConcurrency {
  readonly #byName = new Map<string, number>();

  set(name: string, reserved: number | undefined): void {
    if (reserved === undefined) this.#byName.delete(name);
    else this.#byName.set(name, reserved);
  }

  forget(name: string): void {
    this.#byName.delete(name);
  }

  /** The function's reserved concurrency, or undefined when it has none. */
  of(name: string): number | undefined {
    return this.#byName.get(name);
  }
}
