import type { ApiError } from '../client/platform-http.js';
import { defaultDataDir } from '../platform/config.js';
import { adminTokenFileName } from '../platform/control/admin-token.js';

/**
 * The one line the CLI prints for a platform's refusal. A wrong or missing token says where the
 * right one is, and how to save it, since that is the first thing a new user runs into.
 */
export function apiErrorLine(error: ApiError, env: Record<string, string | undefined>): string {
  if (error.code !== 'NIMBUS_AUTH_REQUIRED') return error.message;
  const base = `${error.message} (HTTP ${error.status})`;
  const endpoint = error.endpoint ?? '<url>';
  const tokenFile = `${defaultDataDir(env)}/${adminTokenFileName}`;
  return (
    `${base} from ${endpoint}: a local platform's token is in <data dir>/${adminTokenFileName} ` +
    `(by default ${tokenFile}); save it for this CLI with ` +
    `'nimbus login --endpoint ${endpoint} --data-dir <data dir>', or set NIMBUS_TOKEN`
  );
}
