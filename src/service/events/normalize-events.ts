import type { EventDefinition } from '../../model/service-definition.js';
import type { NormalizeContext } from '../context.js';
import { isPlainObject, type PropertyPath } from '../property-path.js';
import { warnUnknownKeys } from '../unknown-keys.js';
import { HTTP_KEYS, normalizeHttp } from './http.js';
import { HTTP_API_KEYS, normalizeHttpApi } from './http-api.js';
import { isOtherKind, normalizeOther, OTHER_KINDS } from './other.js';
import { normalizeSchedule, SCHEDULE_KEYS } from './schedule.js';

/** Serverless event types that have no Nimbus equivalent; they are skipped with a warning. */
const IGNORED_KINDS = new Set([
  'alb',
  'alexaSkill',
  'alexaSmartHome',
  'activemq',
  'cloudFront',
  'cognitoUserPool',
  'kafka',
  'msk',
  'rabbitmq',
]);

/** `functions.<fn>.events`: each item is a one-key map `{<kind>: shorthand | object}`. */
export function normalizeEvents(
  events: unknown[] | null | undefined,
  base: PropertyPath,
  ctx: NormalizeContext,
): EventDefinition[] {
  const out: EventDefinition[] = [];
  (events ?? []).forEach((item, index) => {
    const path = [...base, index];
    if (!isPlainObject(item) || Object.keys(item).length !== 1) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        path,
        'each event must be a map with exactly one event type, e.g. `- http: GET /`',
      );
    }
    const [kind, value] = Object.entries(item)[0]!;
    const event = normalizeEvent(kind, value, [...path, kind], ctx);
    if (event) out.push(event);
  });
  return out;
}

function normalizeEvent(
  kind: string,
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): EventDefinition | undefined {
  switch (kind) {
    case 'http':
      warnUnknownKeys(value, HTTP_KEYS, path, ctx);
      return normalizeHttp(value, path, ctx);
    case 'httpApi':
      warnUnknownKeys(value, HTTP_API_KEYS, path, ctx);
      return normalizeHttpApi(value, path, ctx);
    case 'schedule':
      warnUnknownKeys(value, SCHEDULE_KEYS, path, ctx);
      return normalizeSchedule(value, path, ctx);
  }
  if (isOtherKind(kind)) {
    warnUnknownKeys(value, OTHER_KINDS[kind].known, path, ctx);
    return normalizeOther(kind, value, path, ctx);
  }
  const why = IGNORED_KINDS.has(kind) ? 'is not supported by Nimbus' : 'is unknown';
  ctx.warnings.push(
    ctx.locator.warning(path, `event type "${kind}" ${why} (ignored)`, { atKey: true }),
  );
  return undefined;
}
