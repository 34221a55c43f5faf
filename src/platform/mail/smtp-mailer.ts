/**
 * The platform's mail by SMTP (nodemailer), when it is given a mail server
 * (`--smtp-url smtp://user:pass@host:port`, `smtps://` for implicit TLS): user pools' codes and
 * SNS email subscriptions. The URL's password is never logged: only its host and port are ever
 * shown. A message the server does not take rejects with MailNotSentError; each sender decides
 * what that means for its operation.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { NimbusError } from '../../errors/nimbus-error.js';

export interface MailMessage {
  /** The sender; the mailer's default (`--smtp-from`, else `no-reply@<SMTP host>`) without. */
  from?: string;
  to: string;
  subject: string;
  text: string;
}

export class MailNotSentError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_MAIL_NOT_SENT', message);
  }
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface SmtpMailerOptions {
  url: string;
  /** The sender when a message names none. */
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
      try {
        await transport.sendMail({
          from: message.from ?? defaultFrom,
          to: message.to,
          subject: message.subject,
          text: message.text,
        });
      } catch (error) {
        const problem = `mail not sent through ${server.hostname}:${server.port}: ${(error as Error).message}`;
        opts.onProblem?.(problem);
        throw new MailNotSentError(problem);
      }
    },
    close: () => transport.close(),
  };
}
