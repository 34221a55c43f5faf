import { z } from 'zod';
import type { CorsSettings, HttpEvent } from '../../model/service-definition.js';
import type { NormalizeContext } from '../context.js';
import type { PropertyPath } from '../property-path.js';
import { bool, intIn, stringList, text } from '../schema/fields.js';
import { validate } from '../validate.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];

/** The headers Serverless allows when `cors: true`. */
export const DEFAULT_CORS_HEADERS = [
  'Content-Type',
  'X-Amz-Date',
  'Authorization',
  'X-Api-Key',
  'X-Amz-Security-Token',
  'X-Amz-User-Agent',
  'X-Amzn-Trace-Id',
];

const corsObject = z.looseObject({
  origin: text.optional(),
  origins: stringList.optional(),
  headers: stringList.optional(),
  methods: stringList.optional(),
  allowCredentials: bool.optional(),
  maxAge: intIn(0).optional(),
});

export const httpObject = z.looseObject({
  path: z.string({ error: 'is required (e.g. `path: users/{id}`)' }),
  method: z
    .string({ error: 'is required (e.g. `method: get`)' })
    .transform((m) => m.toUpperCase())
    .refine((m) => METHODS.includes(m), { error: `must be one of ${METHODS.join(', ')}` }),
  cors: z.union([bool, corsObject], { error: 'must be true or a cors map' }).optional(),
  async: bool.optional(),
  private: bool.optional(),
  authorizer: z.unknown().optional(),
  integration: text.optional(),
});

/** `'GET users/create'` or `{path, method, cors, ...}` → HttpEvent. */
export function normalizeHttp(
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): HttpEvent {
  const input = typeof value === 'string' ? fromShorthand(value) : value;
  const parsed = validate(httpObject, input, path, ctx.locator);
  const event: HttpEvent = {
    kind: 'http',
    method: parsed.method,
    path: parsed.path.replace(/^\/+/, ''),
  };
  if (parsed.cors) event.cors = normalizeCors(parsed.cors);
  if (parsed.async !== undefined) event.async = parsed.async;
  if (parsed.private !== undefined) event.private = parsed.private;
  if (parsed.authorizer !== undefined) event.authorizer = parsed.authorizer;
  if (parsed.integration !== undefined) event.integration = parsed.integration;
  return event;
}

function fromShorthand(value: string): unknown {
  const [method, path, ...rest] = value.trim().split(/\s+/);
  // Leave a malformed shorthand to the schema, which then names the missing part.
  return rest.length === 0 ? { method, path } : { method, path: value };
}

function normalizeCors(cors: true | z.output<typeof corsObject>): CorsSettings {
  const base: CorsSettings = {
    origins: ['*'],
    headers: [...DEFAULT_CORS_HEADERS],
    allowCredentials: false,
  };
  if (cors === true) return base;
  const origins = cors.origins ?? (cors.origin ? [cors.origin] : base.origins);
  const out: CorsSettings = {
    origins,
    headers: cors.headers ?? base.headers,
    allowCredentials: cors.allowCredentials ?? false,
  };
  if (cors.methods) out.methods = cors.methods.map((m) => m.toUpperCase());
  if (cors.maxAge !== undefined) out.maxAge = cors.maxAge;
  return out;
}
