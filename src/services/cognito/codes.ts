/**
 * One-time codes (sign-up confirmation, password reset, attribute verification): six digits,
 * stored as an HMAC under the master key (hashed at rest, not guessable offline), single use,
 * expiring as Cognito's (24 h for confirmation and verification, 1 h for resets), and refused
 * after 5 wrong tries. The message carrying them goes to the outbox.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import type { CognitoDeps } from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { PoolRow, UserRow } from './cognito-store.js';

export type CodePurpose = 'signup' | 'reset' | `verify:${string}`;

const lifetimes: Record<string, number> = { signup: 24 * 3600_000, reset: 3600_000 };
const maxWrongTries = 5;

function codeHash(deps: CognitoDeps, user: UserRow, purpose: string, code: string): string {
  return createHmac('sha256', deps.masterKey)
    .update(`${user.poolId}\u0000${user.sub}\u0000${purpose}\u0000${code}`)
    .digest('base64url');
}

export interface CodeDeliveryDetails {
  Destination: string;
  DeliveryMedium: 'EMAIL' | 'SMS';
  AttributeName: string;
}

/** Makes a code, replacing any earlier one for the same purpose, and sends it. */
export async function sendCode(
  deps: CognitoDeps,
  pool: PoolRow,
  user: UserRow,
  purpose: CodePurpose,
): Promise<CodeDeliveryDetails> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = deps.clock.now();
  const lifetime = lifetimes[purpose] ?? 24 * 3600_000;
  await deps.store.putCode(
    pool.id,
    user.sub,
    purpose,
    codeHash(deps, user, purpose, code),
    now + lifetime,
  );
  const template =
    purpose === 'reset'
      ? 'Your password reset code is {####}.'
      : ((pool.config.EmailVerificationMessage as string | undefined) ??
        'Your verification code is {####}.');
  return deliver(
    deps,
    pool,
    user,
    purpose === 'reset' ? 'reset' : 'verification',
    template.replace('{####}', code),
  );
}

/** Checks and consumes a code: CodeMismatch, ExpiredCode, or LimitExceeded after 5 wrong tries. */
export async function useCode(
  deps: CognitoDeps,
  user: UserRow,
  purpose: CodePurpose,
  code: string,
): Promise<void> {
  const stored = await deps.store.findCode(user.poolId, user.sub, purpose);
  if (!stored) throw cognitoErrors.codeMismatch();
  if (stored.attempts >= maxWrongTries) throw cognitoErrors.limitExceeded();
  if (stored.expiresAt <= deps.clock.now()) throw cognitoErrors.expiredCode();
  if (
    !(await deps.store.takeCode(
      user.poolId,
      user.sub,
      purpose,
      codeHash(deps, user, purpose, code),
    ))
  ) {
    await deps.store.countCodeAttempt(user.poolId, user.sub, purpose);
    throw cognitoErrors.codeMismatch();
  }
}

/** Puts a message for the user in the outbox (the development delivery channel). */
export async function deliver(
  deps: CognitoDeps,
  pool: PoolRow,
  user: UserRow,
  kind: string,
  message: string,
): Promise<CodeDeliveryDetails> {
  const email = user.attributes.email;
  const phone = user.attributes.phone_number;
  const destination = email ?? phone;
  if (!destination) {
    throw cognitoErrors.invalidParameter(
      'Cannot deliver the message: the user has neither an email nor a phone_number attribute.',
    );
  }
  await deps.store.addMessage({
    id: outboxId(deps.clock.now()),
    poolId: pool.id,
    username: user.username,
    destination,
    kind,
    message,
    createdAt: deps.clock.now(),
  });
  return maskedDelivery(destination, email ? 'email' : 'phone_number');
}

let outboxSeq = 0;

/** Sorts by time, then by order of sending within a millisecond (newest first = id desc). */
function outboxId(now: number): string {
  outboxSeq = (outboxSeq + 1) % 1e9;
  return `${String(now).padStart(15, '0')}-${String(outboxSeq).padStart(9, '0')}-${randomUUID().slice(0, 8)}`;
}

export function maskedDelivery(destination: string, attribute: string): CodeDeliveryDetails {
  if (attribute === 'email') {
    const [local = '', domain = ''] = destination.split('@');
    return {
      Destination: `${local.slice(0, 1)}***@${domain.slice(0, 1)}***`,
      DeliveryMedium: 'EMAIL',
      AttributeName: 'email',
    };
  }
  return {
    Destination: `+*******${destination.slice(-4)}`,
    DeliveryMedium: 'SMS',
    AttributeName: 'phone_number',
  };
}
