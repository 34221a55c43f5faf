import type { ControlRoute } from '../control/control-api.js';
import { HttpError } from '../http/http-error.js';
import { readBody } from '../http/read-body.js';
import { sendJson } from '../http/send.js';
import type { AccessKeyScope, AccessKeyStore } from './access-key-store.js';

/** A description is a label for people; a short cap keeps list output readable. */
const maxDescription = 256;

/**
 * `/v1/keys` on the control plane (admin token required, as every /v1 route):
 * - `POST /v1/keys` `{description?, scope?: {service?, stage?, functions?, readOnly?}}` -> 201
 *   `{key: {id, secret, createdAt, description?, scope?}}`; the only answer that ever carries
 *   the secret
 * - `GET /v1/keys` -> `{keys: [{id, createdAt, lastUsedAt?, description?}]}`
 * - `DELETE /v1/keys/{id}` -> `{deleted: id}`, 404 NIMBUS_NOT_FOUND when there is none
 */
export function keysRoutes(keys: AccessKeyStore): ControlRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/keys',
      handler: async (req, res) => {
        const { description, scope } = parseCreate(await readBody(req, 16 * 1024, 'JSON body'));
        const key = await keys.create({
          ...(description === undefined ? {} : { description }),
          ...(scope === undefined ? {} : { scope }),
        });
        // no-store: the secret must not linger in a proxy's cache.
        sendJson(res, 201, { key }, { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      path: '/v1/keys',
      handler: async (_req, res) => sendJson(res, 200, { keys: await keys.list() }),
    },
    {
      method: 'DELETE',
      path: '/v1/keys/{id}',
      handler: async (_req, res, params) => {
        const id = params.id!;
        if (!(await keys.delete(id))) {
          throw new HttpError(404, 'NIMBUS_NOT_FOUND', `access key ${id} does not exist`);
        }
        sendJson(res, 200, { deleted: id });
      },
    },
  ];
}

function parseCreate(body: Buffer): { description?: string; scope?: AccessKeyScope } {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(
      400,
      'NIMBUS_HTTP_BAD_JSON',
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  const input = (value ?? {}) as { description?: unknown; scope?: unknown };
  const out: { description?: string; scope?: AccessKeyScope } = {};
  const description = input.description;
  if (description !== undefined && description !== null) {
    if (typeof description !== 'string' || description.length > maxDescription) {
      throw new HttpError(
        400,
        'NIMBUS_AUTH_BAD_DESCRIPTION',
        `description must be a string of at most ${maxDescription} characters`,
      );
    }
    out.description = description;
  }
  if (input.scope !== undefined && input.scope !== null) out.scope = parseScope(input.scope);
  return out;
}

const namePattern = /^[a-zA-Z0-9_-]{1,128}$/;

function parseScope(raw: unknown): AccessKeyScope {
  const bad = (detail: string): never => {
    throw new HttpError(400, 'NIMBUS_AUTH_BAD_SCOPE', `scope: ${detail}`);
  };
  if (typeof raw !== 'object' || Array.isArray(raw)) bad('must be an object');
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!['service', 'stage', 'functions', 'readOnly'].includes(key)) bad(`unknown field "${key}"`);
  }
  const scope: AccessKeyScope = {};
  for (const field of ['service', 'stage'] as const) {
    const v = input[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !namePattern.test(v))
      bad(`${field} must be a service or stage name`);
    scope[field] = v as string;
  }
  if (input.functions !== undefined && input.functions !== null) {
    const list = input.functions;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > 100 ||
      !list.every((f) => typeof f === 'string' && namePattern.test(f))
    ) {
      bad('functions must be a list of 1 to 100 function names');
    }
    scope.functions = list as string[];
  }
  if (input.readOnly !== undefined && input.readOnly !== null) {
    if (typeof input.readOnly !== 'boolean') bad('readOnly must be true or false');
    if (input.readOnly) scope.readOnly = true;
  }
  return scope;
}
