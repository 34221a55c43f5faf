/**
 * How far behind each event source mapping runs: the age of the oldest record of the batch it
 * last handed to its function, at that moment (Lambda's IteratorAge). Kept in memory by the
 * runners and read by the metrics at scrape time; a mapping that stops is forgotten.
 */
export class IteratorAges {
  readonly #ages = new Map<string, { functionName: string; ageMs: number }>();

  saw(mapping: { uuid: string; functionName: string }, ageMs: number): void {
    this.#ages.set(mapping.uuid, { functionName: mapping.functionName, ageMs: Math.max(0, ageMs) });
  }

  forget(uuid: string): void {
    this.#ages.delete(uuid);
  }

  list(): { uuid: string; functionName: string; ageMs: number }[] {
    return [...this.#ages].map(([uuid, a]) => ({ uuid, ...a }));
  }
}
