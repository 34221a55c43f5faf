/** What every SNS operation gets, and the ARNs SNS names topics and subscriptions by. */
import type { IncomingMessage } from 'node:http';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import type { Deliveries } from './fan-out.js';
import { snsErrors } from './sns-errors.js';
import type { Input } from './sns-input.js';
import type { SnsStore } from './sns-store.js';

export interface SnsDeps {
  store: SnsStore;
  clock: Clock;
  region: string;
  deliveries: Deliveries;
}

export interface SnsCall {
  deps: SnsDeps;
  req: IncomingMessage;
  input: Input;
}

export function topicArn(region: string, name: string): string {
  return `arn:aws:sns:${region}:${NIMBUS_ACCOUNT_ID}:${name}`;
}

/** The topic name an ARN names; any region (clients are configured with many). */
export function topicNameOfArn(arn: string): string {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || !parts[5]) {
    throw snsErrors.invalidParameter(`TopicArn Reason: ${arn} is not a topic ARN`);
  }
  if (parts[4] !== NIMBUS_ACCOUNT_ID) throw snsErrors.topicNotFound();
  return parts[5];
}

/** `http://<host the client used>`: where the URLs in notifications point. */
export function baseUrl(req: IncomingMessage): string {
  return `http://${req.headers.host ?? 'localhost'}`;
}
