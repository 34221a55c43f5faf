import type { ControlRoute } from '../control/control-api.js';
import { HttpError } from '../http/http-error.js';
import { readBody } from '../http/read-body.js';
import { sendJson } from '../http/send.js';
import type { AccessKeyStore } from './access-key-store.js';

/** A description is a label for people; a short cap keeps list output readable. */
const maxDescription = 256;

/**
 * `/v1/keys` on the control plane (admin token required, as every /v1 route):
 * - `POST /v1/keys` `{description?}` -> 201 `{key: {id, secret, createdAt, description?}}`; the
 *   only answer that ever carries the secret
 * - `GET /v1/keys` -> `{keys: [{id, createdAt, lastUsedAt?, description?}]}`
 * - `DELETE /v1/keys/{id}` -> `{deleted: id}`, 404 NIMBUS_NOT_FOUND when there is none
 */
export function keysRoutes(keys: AccessKeyStore): ControlRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/keys',
      handler: async (req, res) => {
        const description = parseCreate(await readBody(req, 16 * 1024, 'JSON body'));
        const key = await keys.create(description === undefined ? {} : { description });
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

function parseCreate(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
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
  const description = (value as { description?: unknown } | null)?.description;
  if (description === undefined || description === null) return undefined;
  if (typeof description !== 'string' || description.length > maxDescription) {
    throw new HttpError(
      400,
      'NIMBUS_AUTH_BAD_DESCRIPTION',
      `description must be a string of at most ${maxDescription} characters`,
    );
  }
  return description;
}
