import type { EventDefinition } from '../../model/service-definition.js';
import type { NormalizeContext } from '../context.js';
import { isPlainObject, type PropertyPath } from '../property-path.js';
import { normalizeCloudwatchEvent, normalizeEventBridge } from './event-bridge.js';
import { normalizeHttp } from './http.js';
import { normalizeHttpApi } from './http-api.js';
import { isOtherKind, normalizeOther } from './other.js';
import { normalizeSchedule } from './schedule.js';

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
      return normalizeHttp(value, path, ctx);
    case 'httpApi':
      return normalizeHttpApi(value, path, ctx);
    case 'schedule':
      return normalizeSchedule(value, path, ctx);
    case 'eventBridge':
      return normalizeEventBridge(value, path, ctx);
    case 'cloudwatchEvent':
      return normalizeCloudwatchEvent(value, path, ctx);
  }
  if (isOtherKind(kind)) return normalizeOther(kind, value, path, ctx);
  // The support check has already warned about this type (unsupported or unknown).
  return undefined;
}
