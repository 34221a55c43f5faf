import type { ControlRoute } from '../../platform/control/control-api.js';
import { HttpError } from '../../platform/http/http-error.js';
import { sendJson } from '../../platform/http/send.js';
import type { CognitoStore } from './cognito-store.js';

/**
 * `GET /v1/userpools/outbox[?pool=<id>&limit=<n>]` (admin token, as every /v1 route): the
 * messages user pools sent (verification codes, temporary passwords, reset codes), newest first:
 * `{messages: [{id, poolId, username, destination, kind, message, createdAt}]}`. The
 * development delivery channel (`nimbus userpools outbox`).
 */
export function userPoolsRoutes(store: CognitoStore): ControlRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/userpools/outbox',
      handler: async (req, res) => {
        const query = new URL(req.url ?? '/', 'http://x').searchParams;
        const limitText = query.get('limit') ?? '50';
        const limit = Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new HttpError(
            400,
            'NIMBUS_USERPOOLS_BAD_PARAM',
            'limit must be an integer from 1 to 1000',
          );
        }
        const pool = query.get('pool') ?? undefined;
        const messages = await store.listMessages({ ...(pool ? { poolId: pool } : {}), limit });
        sendJson(res, 200, { messages }, { 'cache-control': 'no-store' });
      },
    },
  ];
}
