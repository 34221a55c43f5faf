/**
 * Rows read on every request of a hot path (an access key's secret, a DynamoDB table's schema)
 * kept in memory only where that stays exact: a deleted key must be refused, and a dropped or
 * changed table seen, by the very next request after the change returns.
 *
 * On the embedded SQLite store every write to those rows goes through the platform's one handle
 * (the repositories that own them invalidate here once their write is done), and a commit by any
 * other connection to the file (a second process on the same data dir: nothing locks it) moves
 * SQLite's data_version, which is read before every answer from memory: the whole cache goes
 * then. On PostgreSQL (cluster mode) another node may change a row at any moment and
 * LISTEN/NOTIFY is only a hint (it arrives after the commit, or not at all across a reconnect),
 * so nothing is kept: every read goes to the database, as before (docs/dynamodb.md, "Caching").
 */
import { foreignCommitCounter } from './sqlite.js';

/** Entries kept per cache; past this, the oldest goes. */
const defaultMaxEntries = 1000;

export class ExactRowCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #foreignCommits: (() => number) | undefined;
  readonly #max: number;
  /** data_version when last looked at. */
  #seen: number | undefined;
  /** Moves at every invalidation: a read that began before one must not fill the cache. */
  #generation = 0;

  /** `foreignCommits` undefined: nothing is ever kept. */
  constructor(foreignCommits: (() => number) | undefined, max = defaultMaxEntries) {
    this.#foreignCommits = foreignCommits;
    this.#max = max;
  }

  /** The value for `key`: from memory when nothing can have changed it since, else `load()`. */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.#current()) return load();
    if (this.#entries.has(key)) return this.#entries.get(key) as V;
    const generation = this.#generation;
    const value = await load();
    // Another connection's commit, or one of ours, while the row was read: it may be stale.
    if (this.#current() && generation === this.#generation) {
      if (this.#entries.size >= this.#max)
        this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** After a write through the platform's handle to the row of `key` (committed or not). */
  invalidate(key: string): void {
    this.#generation += 1;
    this.#entries.delete(key);
  }

  /** After a write through the platform's handle to rows whose keys are not known. */
  invalidateAll(): void {
    this.#forgetAll();
  }

  /**
   * False when nothing may be kept; otherwise forgets everything if another connection
   * committed since the last look.
   */
  #current(): boolean {
    if (!this.#foreignCommits) return false;
    let version: number;
    try {
      version = this.#foreignCommits();
    } catch {
      // The connection is closed or busy: no proof that nothing changed.
      this.#forgetAll();
      this.#seen = undefined;
      return false;
    }
    if (version !== this.#seen) {
      this.#forgetAll();
      this.#seen = version;
    }
    return true;
  }

  #forgetAll(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}

/** One cache per database handle and name, shared by every repository built on that handle. */
const byHandle = new WeakMap<object, Map<string, ExactRowCache<unknown>>>();

export function sharedRowCache<V>(db: object, name: string): ExactRowCache<V> {
  let caches = byHandle.get(db);
  if (!caches) {
    caches = new Map();
    byHandle.set(db, caches);
  }
  let cache = caches.get(name);
  if (!cache) {
    cache = new ExactRowCache<unknown>(foreignCommitCounter(db));
    caches.set(name, cache);
  }
  return cache as ExactRowCache<V>;
}
