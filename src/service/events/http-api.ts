import { z } from 'zod';
import type { HttpApiEvent } from '../../model/service-definition.js';
import type { NormalizeContext } from '../context.js';
import type { PropertyPath } from '../property-path.js';
import { validate } from '../validate.js';

const METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];

export const httpApiObject = z.looseObject({
  method: z
    .string({ error: 'must be a string' })
    .default('*')
    .transform((m) => m.toUpperCase())
    .refine((m) => METHODS.includes(m), { error: `must be one of ${METHODS.join(', ')}` }),
  path: z
    .string({ error: 'is required (e.g. `path: /users/{id}`)' })
    .refine((p) => p === '*' || p.startsWith('/'), { error: 'must start with "/" (or be "*")' }),
  authorizer: z.unknown().optional(),
});

/** `'*'`, `'GET /path'` or `{method, path, authorizer}` → HttpApiEvent. */
export function normalizeHttpApi(
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): HttpApiEvent {
  const input = typeof value === 'string' ? fromShorthand(value) : value;
  const parsed = validate(httpApiObject, input, path, ctx.locator);
  const event: HttpApiEvent = { kind: 'httpApi', method: parsed.method, path: parsed.path };
  if (parsed.authorizer !== undefined) event.authorizer = parsed.authorizer;
  return event;
}

function fromShorthand(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed === '*') return { method: '*', path: '*' };
  const [method, route, ...rest] = trimmed.split(/\s+/);
  return rest.length === 0 ? { method, path: route } : { method, path: trimmed };
}
