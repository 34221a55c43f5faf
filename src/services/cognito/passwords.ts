/**
 * Password hashing (argon2id with OWASP's minimum parameters, PHC strings), with a cap on hashes
 * running at once (each holds ~19 MiB) and on callers waiting for one; and the pool's password
 * policy.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { cognitoErrors } from './cognito-errors.js';

/** OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1. */
export const argon2Options = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

export class PasswordHasher {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #dummy: Promise<string> | undefined;

  constructor(
    readonly limits: { concurrent: number; queued: number } = { concurrent: 2, queued: 64 },
  ) {}

  hash(password: string): Promise<string> {
    return this.#run(() => hash(password, argon2Options));
  }

  verify(phc: string, password: string): Promise<boolean> {
    return this.#run(() => verify(phc, password).catch(() => false));
  }

  /**
   * Spends the time a real check would for a user that does not exist, so the answer's timing
   * does not tell whether the user exists.
   */
  async verifyNobody(password: string): Promise<false> {
    this.#dummy ??= hash('nimbus-no-such-user', argon2Options);
    await this.verify(await this.#dummy, password);
    return false;
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limits.concurrent) {
      if (this.#waiting.length >= this.limits.queued) throw cognitoErrors.tooManyRequests();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}

export interface PasswordPolicy {
  MinimumLength: number;
  RequireUppercase: boolean;
  RequireLowercase: boolean;
  RequireNumbers: boolean;
  RequireSymbols: boolean;
  TemporaryPasswordValidityDays: number;
}

export const defaultPasswordPolicy: PasswordPolicy = {
  MinimumLength: 8,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
  TemporaryPasswordValidityDays: 7,
};

/** Cognito's symbol set for RequireSymbols. */
const symbols = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+- ';

/** Throws InvalidPasswordException with Cognito's wording for the first rule broken. */
export function checkPassword(policy: PasswordPolicy, password: string): void {
  if (password.length < policy.MinimumLength) {
    throw cognitoErrors.invalidPassword('Password not long enough');
  }
  if (password.length > 256) throw cognitoErrors.invalidPassword('Password is too long');
  if (policy.RequireLowercase && !/[a-z]/.test(password)) {
    throw cognitoErrors.invalidPassword('Password must have lowercase characters');
  }
  if (policy.RequireUppercase && !/[A-Z]/.test(password)) {
    throw cognitoErrors.invalidPassword('Password must have uppercase characters');
  }
  if (policy.RequireNumbers && !/[0-9]/.test(password)) {
    throw cognitoErrors.invalidPassword('Password must have numeric characters');
  }
  if (policy.RequireSymbols && ![...password].some((c) => symbols.includes(c))) {
    throw cognitoErrors.invalidPassword('Password must have symbol characters');
  }
}
