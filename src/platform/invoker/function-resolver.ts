import type { StoreReader, VersionRow } from '../../store/store.js';
import { functionArn, parseFunctionRef } from './function-ref.js';
import { FunctionNotFoundError, type ResolvedFunction } from './invoker-port.js';

interface CachedFunction {
  service: string;
  stage: string;
  region: string;
  name: string;
  versions: Map<number, VersionRow>;
  newest: number;
  aliases: Map<string, CachedAlias>;
}

interface CachedAlias {
  version: number;
  /** [version, weight]: AdditionalVersionWeights, tried in order before `version`. */
  weights: [number, number][];
}

/**
 * Turns a function reference and qualifier into one version. Answers come from a cache that is
 * dropped whenever a deployment lands (invalidate), so the hot path does no store reads.
 */
export class FunctionResolver {
  readonly #store: StoreReader;
  readonly #region: string;
  readonly #random: () => number;
  readonly #cache = new Map<string, Promise<CachedFunction | undefined>>();

  /** `random` (0 <= r < 1) draws the version of a weighted alias; Math.random by default. */
  constructor(opts: { store: StoreReader; region: string; random?: () => number }) {
    this.#store = opts.store;
    this.#region = opts.region;
    this.#random = opts.random ?? Math.random;
  }

  /** Forget what is cached (all functions, or one): call after every deploy or remove. */
  invalidate(name?: string): void {
    if (name === undefined) this.#cache.clear();
    else this.#cache.delete(name);
  }

  async resolve(ref: string, qualifierParam: string | undefined): Promise<ResolvedFunction> {
    const parsed = parseFunctionRef(ref);
    if (!parsed) throw this.#notFound(ref);
    const qualifier = qualifierParam ?? parsed.qualifier;
    const fn = await this.#load(parsed.name);
    if (!fn) throw this.#notFound(parsed.name, qualifier);
    const version = this.#pick(fn, qualifier);
    const row = version === undefined ? undefined : fn.versions.get(version);
    if (!row) throw this.#notFound(parsed.name, qualifier);
    return {
      service: fn.service,
      stage: fn.stage,
      region: fn.region,
      functionName: fn.name,
      version: String(row.version),
      config: row.config,
      codeSha256: row.codeSha256,
    };
  }

  #pick(fn: CachedFunction, qualifier: string | undefined): number | undefined {
    // $LATEST is Lambda's unpublished head; in Nimbus every deploy publishes, so it is the newest.
    if (qualifier === undefined || qualifier === '$LATEST') return fn.newest;
    if (/^\d+$/.test(qualifier)) return Number(qualifier);
    const alias = fn.aliases.get(qualifier);
    if (!alias) return undefined;
    // One draw per invocation, as Lambda does: each request goes to a version independently.
    if (alias.weights.length === 0) return alias.version;
    const draw = this.#random();
    let bound = 0;
    for (const [version, weight] of alias.weights) {
      bound += weight;
      if (draw < bound) return version;
    }
    return alias.version;
  }

  #load(name: string): Promise<CachedFunction | undefined> {
    let entry = this.#cache.get(name);
    if (!entry) {
      const read = this.#read(name);
      entry = read;
      this.#cache.set(name, read);
      // A miss is never kept: the function may be deployed by the next request (or another node).
      const forget = () => {
        if (this.#cache.get(name) === read) this.#cache.delete(name);
      };
      void read.then((fn) => fn ?? forget(), forget);
    }
    return entry;
  }

  async #read(name: string): Promise<CachedFunction | undefined> {
    const fn = await this.#store.findFunctionByName(name);
    if (!fn) return undefined;
    const stage = (await this.#store.listStages()).find((s) => s.id === fn.stageId);
    if (!stage) return undefined;
    const rows = await this.#store.listVersions(fn.id);
    const aliases = await this.#store.listAliases(fn.id);
    return {
      service: stage.service,
      stage: stage.stage,
      region: stage.region,
      name: fn.name,
      versions: new Map(rows.map((r) => [r.version, r])),
      newest: rows.at(-1)?.version ?? 0,
      aliases: new Map(
        aliases.map((a) => [
          a.name,
          {
            version: a.version,
            weights: Object.entries(a.routing ?? {}).map(([v, w]): [number, number] => [
              Number(v),
              w,
            ]),
          },
        ]),
      ),
    };
  }

  #notFound(name: string, qualifier?: string): FunctionNotFoundError {
    return new FunctionNotFoundError(
      `Function not found: ${functionArn(this.#region, name, qualifier)}`,
    );
  }
}
