/**
 * Each pool's RS256 signing keys: made when the pool is made, the private half sealed with the
 * platform's master key (bound to its kid), the public halves published as the pool's JWKS. A
 * rotation adds a key and signs with it; the previous key stays published so tokens signed
 * before it still verify.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../../model/clock.js';
import { openSecret, sealSecret } from '../../platform/auth/secret-box.js';
import type { CognitoStore, KeyRow } from './cognito-store.js';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/** Keys published per pool: the signing key and the one before it. */
const publishedKeys = 2;

export class TokenKeys {
  readonly #signing = new Map<string, { kid: string; key: SigningKey }>();

  constructor(private readonly deps: { store: CognitoStore; masterKey: Buffer; clock: Clock }) {}

  /** Makes a new signing key for the pool (at creation, and to rotate). */
  async rotate(poolId: string): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair('RS256', {
      modulusLength: 2048,
      extractable: true,
    });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    await this.deps.store.insertKey({
      kid,
      poolId,
      publicJwk,
      sealedPrivateJwk: sealSecret(this.deps.masterKey, JSON.stringify(privateJwk), kid),
      createdAt: this.deps.clock.now(),
    });
    this.#signing.delete(poolId);
    return kid;
  }

  /** The pool's current key (read from the store once per process, then cached). */
  async signingKey(poolId: string): Promise<{ kid: string; key: SigningKey }> {
    const cached = this.#signing.get(poolId);
    if (cached) return cached;
    const [newest] = await this.deps.store.listKeys(poolId);
    if (!newest) throw new Error(`user pool ${poolId} has no signing key`);
    const jwk = JSON.parse(
      openSecret(this.deps.masterKey, newest.sealedPrivateJwk, newest.kid),
    ) as JWK;
    const key = { kid: newest.kid, key: await importJWK(jwk, 'RS256') };
    this.#signing.set(poolId, key);
    return key;
  }

  /** The pool's JWKS document. */
  async jwks(poolId: string): Promise<{ keys: Record<string, unknown>[] }> {
    const keys = await this.deps.store.listKeys(poolId);
    return { keys: keys.slice(0, publishedKeys).map((k: KeyRow) => k.publicJwk) };
  }

  forget(poolId: string): void {
    this.#signing.delete(poolId);
  }
}
