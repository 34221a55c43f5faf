/**
 * User-pool mail by SMTP (nodemailer), when the platform is given a mail server
 * (`--smtp-url smtp://user:pass@host:port`, `smtps://` for implicit TLS). The URL's password is
 * never logged: only its host and port are ever shown. A message that cannot be handed to the
 * server fails the operation that sent it (`CodeDeliveryFailureException`), as with Cognito.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { AwsError } from '../../platform/aws/aws-error.js';
import type { PoolRow } from './cognito-store.js';

export interface MailMessage {
  pool: PoolRow;
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface SmtpMailerOptions {
  url: string;
  /** The sender when the pool names none (`EmailConfiguration.From`). */
  from?: string;
  onProblem?: (message: string) => void;
}

/** `smtp://user:***@host:port`: the URL as it may be shown. */
export function redactedSmtpUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/** Checks the URL's shape: `smtp:` or `smtps:` with a host. */
export function checkSmtpUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL (smtp://user:password@host:port)';
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:')
    return 'must start with smtp:// or smtps://';
  if (!u.hostname) return 'must name a host';
  return undefined;
}

export function createSmtpMailer(opts: SmtpMailerOptions): Mailer {
  const problem = checkSmtpUrl(opts.url);
  if (problem) throw new Error(`SMTP URL ${problem}`);
  const transport: Transporter = nodemailer.createTransport(opts.url);
  const server = new URL(opts.url);
  const defaultFrom = opts.from ?? `no-reply@${server.hostname}`;
  return {
    async send(message) {
      const config = (message.pool.config.EmailConfiguration ?? {}) as { From?: unknown };
      const from =
        typeof config.From === 'string' && config.From !== '' ? config.From : defaultFrom;
      try {
        await transport.sendMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text,
        });
      } catch (error) {
        opts.onProblem?.(
          `mail to the user of pool ${message.pool.id} not sent through ${server.hostname}:${server.port}: ${(error as Error).message}`,
        );
        throw new AwsError(400, 'CodeDeliveryFailureException', 'Unable to deliver the message.');
      }
    },
    close: () => transport.close(),
  };
}
