/**
 * Each issuer's signing keys, found by OpenID discovery (`<issuer>/.well-known/openid-configuration`
 * → `jwks_uri`, else `<issuer>/.well-known/jwks.json`), kept for `maxAgeMs` and fetched again
 * early when a token names a key id the set lacks (a rotation), at most once per cooldown so a
 * stream of forged key ids cannot turn the gateway into a fetch loop against the issuer.
 */
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { NimbusError } from '../../../errors/nimbus-error.js';
import type { Clock } from '../../../model/clock.js';

export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export class JwksUnavailableError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_GATEWAY_JWKS_UNAVAILABLE', message);
  }
}

interface Entry {
  resolver?: KeyResolver;
  fetchedAt: number;
  /** When a fetch was last tried (successful or not): the cooldown's start. */
  triedAt: number;
  inFlight?: Promise<KeyResolver>;
}

export interface JwksCacheOptions {
  clock: Clock;
  /** Keys are fetched again after this long even when every kid is known. Default 10 min. */
  maxAgeMs?: number;
  /** The least time between two fetches for one issuer. Default 30 s. */
  cooldownMs?: number;
  /** Per HTTP request to the issuer. Default 5 s. */
  timeoutMs?: number;
  /** Largest discovery or JWKS document read. Default 256 KiB. */
  maxBytes?: number;
}

export class JwksCache {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;

  constructor(opts: JwksCacheOptions) {
    this.#clock = opts.clock;
    this.#maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
    this.#cooldownMs = opts.cooldownMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#maxBytes = opts.maxBytes ?? 256 * 1024;
  }

  /** The issuer's keys; throws JwksUnavailableError when none could ever be fetched. */
  async keysOf(issuer: string): Promise<KeyResolver> {
    const entry = this.#entry(issuer);
    const now = this.#clock.now();
    if (entry.resolver && now - entry.fetchedAt < this.#maxAgeMs) return entry.resolver;
    if (entry.resolver && now - entry.triedAt < this.#cooldownMs) return entry.resolver;
    if (!entry.resolver && now - entry.triedAt < this.#cooldownMs && !entry.inFlight) {
      throw new JwksUnavailableError(
        `JWKS of ${issuer} could not be fetched recently; not retried yet`,
      );
    }
    try {
      return await this.#fetch(issuer, entry);
    } catch (error) {
      // Stale keys beat no keys: an issuer that is briefly down does not lock everyone out.
      if (entry.resolver) return entry.resolver;
      throw error;
    }
  }

  /** Fetches again for an unknown kid; false when the cooldown has not passed (nothing fetched). */
  async refresh(issuer: string): Promise<KeyResolver | undefined> {
    const entry = this.#entry(issuer);
    if (!entry.inFlight && this.#clock.now() - entry.triedAt < this.#cooldownMs) return undefined;
    try {
      return await this.#fetch(issuer, entry);
    } catch {
      return undefined;
    }
  }

  #entry(issuer: string): Entry {
    let entry = this.#entries.get(issuer);
    if (!entry) {
      entry = { fetchedAt: Number.NEGATIVE_INFINITY, triedAt: Number.NEGATIVE_INFINITY };
      this.#entries.set(issuer, entry);
    }
    return entry;
  }

  #fetch(issuer: string, entry: Entry): Promise<KeyResolver> {
    // Concurrent requests share one fetch.
    entry.inFlight ??= (async () => {
      entry.triedAt = this.#clock.now();
      try {
        const jwks = await this.#download(issuer);
        entry.resolver = createLocalJWKSet(jwks);
        entry.fetchedAt = this.#clock.now();
        return entry.resolver;
      } finally {
        entry.inFlight = undefined;
      }
    })();
    return entry.inFlight;
  }

  async #download(issuer: string): Promise<JSONWebKeySet> {
    const base = issuer.replace(/\/+$/, '');
    let jwksUri = `${base}/.well-known/jwks.json`;
    const discovery = await this.#getJson(`${base}/.well-known/openid-configuration`).catch(
      () => undefined,
    );
    const named = (discovery as { jwks_uri?: unknown } | undefined)?.jwks_uri;
    if (typeof named === 'string' && /^https?:\/\//.test(named)) jwksUri = named;
    const jwks = (await this.#getJson(jwksUri)) as { keys?: unknown };
    if (!jwks || !Array.isArray(jwks.keys)) {
      throw new JwksUnavailableError(`${jwksUri} is not a JSON Web Key Set`);
    }
    return jwks as JSONWebKeySet;
  }

  async #getJson(url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      throw new JwksUnavailableError(`${url}: ${(error as Error).message}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new JwksUnavailableError(`${url}: HTTP ${response.status}`);
    }
    const text = await response.text();
    if (text.length > this.#maxBytes) throw new JwksUnavailableError(`${url}: document too large`);
    try {
      return JSON.parse(text);
    } catch {
      throw new JwksUnavailableError(`${url}: not JSON`);
    }
  }
}
