/** The ARNs EventBridge names buses and rules by, and reading a bus given by name or ARN. */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { eventsErrors } from './events-errors.js';
import { defaultBus } from './events-store.js';

export function busArn(region: string, name: string): string {
  return `arn:aws:events:${region}:${NIMBUS_ACCOUNT_ID}:event-bus/${name}`;
}

/** Rules of the default bus are `rule/<name>`, those of a custom bus `rule/<bus>/<name>`. */
export function ruleArn(region: string, bus: string, name: string): string {
  const path = bus === defaultBus ? name : `${bus}/${name}`;
  return `arn:aws:events:${region}:${NIMBUS_ACCOUNT_ID}:rule/${path}`;
}

/** A bus given as a name or an event-bus ARN (any region); absent means the default bus. */
export function busNameOf(raw: string | undefined): string {
  if (raw === undefined || raw === '') return defaultBus;
  if (!raw.startsWith('arn:')) return raw;
  const parts = raw.split(':');
  const resource = parts.slice(5).join(':');
  if (parts.length < 6 || parts[2] !== 'events' || !resource.startsWith('event-bus/')) {
    throw eventsErrors.validation(`${raw} is not an event bus ARN.`);
  }
  if (parts[4] !== NIMBUS_ACCOUNT_ID) throw eventsErrors.busNotFound(raw);
  return resource.slice('event-bus/'.length);
}
