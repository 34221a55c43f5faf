/**
 * One-time codes (sign-up confirmation, password reset, attribute verification): six digits,
 * stored as an HMAC under the master key (hashed at rest, not guessable offline), single use,
 * expiring as Cognito's (24 h for confirmation and verification, 1 h for resets), and refused
 * after 5 wrong tries. The message carrying them may be rewritten by the pool's CustomMessage
 * trigger and goes out by SMTP when the platform has a mail server, else to the outbox.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { AwsError } from '../../platform/aws/aws-error.js';
import { MailNotSentError } from '../../platform/mail/smtp-mailer.js';
import type { CognitoDeps } from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { PoolRow, UserRow } from './cognito-store.js';
import { triggerAttributes } from './triggers.js';

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

/** Why a message is sent (CustomMessage's triggerSource) and for which app client. */
export interface MessageContext {
  triggerSource: string;
  clientId?: string;
  clientMetadata?: Record<string, string>;
}

const defaultSources: Record<string, string> = {
  signup: 'CustomMessage_SignUp',
  reset: 'CustomMessage_ForgotPassword',
};

/** Makes a code, replacing any earlier one for the same purpose, and sends it. */
export async function sendCode(
  deps: CognitoDeps,
  pool: PoolRow,
  user: UserRow,
  purpose: CodePurpose,
  context: MessageContext = {
    triggerSource: defaultSources[purpose] ?? 'CustomMessage_VerifyUserAttribute',
  },
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
  const subject =
    purpose === 'reset'
      ? 'Your password reset code'
      : ((pool.config.EmailVerificationSubject as string | undefined) ?? 'Your verification code');
  const custom = await customMessage(deps, pool, user, context, { message: template, subject });
  return deliver(
    deps,
    pool,
    user,
    purpose === 'reset' ? 'reset' : 'verification',
    custom.message.replaceAll('{####}', code),
    custom.subject,
  );
}

export interface Message {
  message: string;
  subject: string;
}

/**
 * The pool's CustomMessage trigger's rewrite of a message whose placeholders (`{####}` for the
 * code, `{username}` for AdminCreateUser) are still in. A rewrite that leaves out the code
 * placeholder is not used (the user could not act on it): the default message goes out, as
 * Cognito does. Email subjects are one line of at most 140 characters.
 */
export async function customMessage(
  deps: CognitoDeps,
  pool: PoolRow,
  user: UserRow,
  context: MessageContext,
  fallback: Message,
  usernameParameter: string | null = null,
): Promise<Message> {
  if (!deps.triggers.has(pool, 'CustomMessage')) return fallback;
  const response = await deps.triggers.run(pool, 'CustomMessage', {
    triggerSource: context.triggerSource,
    userName: user.username,
    ...(context.clientId ? { clientId: context.clientId } : {}),
    request: {
      userAttributes: triggerAttributes(user),
      codeParameter: '{####}',
      linkParameter: '{##Click Here##}',
      usernameParameter,
      ...(context.clientMetadata ? { clientMetadata: context.clientMetadata } : {}),
    },
    response: { smsMessage: null, emailMessage: null, emailSubject: null },
  });
  const byEmail = user.attributes.email !== undefined;
  const text = byEmail ? response?.emailMessage : response?.smsMessage;
  const needs = ['{####}', ...(usernameParameter ? [usernameParameter] : [])];
  const usable =
    typeof text === 'string' && text.length <= 20_000 && needs.every((p) => text.includes(p));
  const subject = response?.emailSubject;
  return {
    message: usable ? text : fallback.message,
    subject:
      byEmail && usable && typeof subject === 'string' && subject !== '' && subject.length <= 140
        ? subject.replace(/[\r\n]+/g, ' ')
        : fallback.subject,
  };
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

/**
 * Sends a message to the user: by SMTP to an email address when the platform has a mail
 * server, else into the outbox (the development delivery channel, and SMS's until it exists).
 */
export async function deliver(
  deps: CognitoDeps,
  pool: PoolRow,
  user: UserRow,
  kind: string,
  message: string,
  subject = 'Your verification code',
): Promise<CodeDeliveryDetails> {
  const email = user.attributes.email;
  const phone = user.attributes.phone_number;
  const destination = email ?? phone;
  if (!destination) {
    throw cognitoErrors.invalidParameter(
      'Cannot deliver the message: the user has neither an email nor a phone_number attribute.',
    );
  }
  if (email && deps.mailer) {
    const config = (pool.config.EmailConfiguration ?? {}) as { From?: unknown };
    const from = typeof config.From === 'string' && config.From !== '' ? config.From : undefined;
    try {
      await deps.mailer.send({ ...(from ? { from } : {}), to: email, subject, text: message });
    } catch (error) {
      if (!(error instanceof MailNotSentError)) throw error;
      // As Cognito answers when its mail cannot go; the code stays valid for a resend.
      throw new AwsError(400, 'CodeDeliveryFailureException', 'Unable to deliver the message.');
    }
    return maskedDelivery(email, 'email');
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
export function outboxId(now: number): string {
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
