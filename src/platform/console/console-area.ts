/**
 * The web console under /console (docs/console.md): its built files, the sign-in that turns the
 * admin token into a session cookie, and /console/api/..., a proxy to the platform's own HTTP
 * APIs that attaches the admin credential on the server, so the token never reaches the browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AccessKeyStore, isAccessKeyId, isRestricted } from '../auth/access-key-store.js';
import type { AreaHandler } from '../front-door/front-door.js';
import { HttpError } from '../http/http-error.js';
import { leaveBodyUnread, readJson } from '../http/read-body.js';
import { sendJson } from '../http/send.js';
import type { ConsoleAsset, ConsoleAssets } from './console-assets.js';
import { type ConsoleSession, type ConsoleSessions, sameSecret } from './console-sessions.js';

export const consoleCookie = 'nimbus_console';
export const csrfHeader = 'x-nimbus-csrf';

export interface ConsoleAreaDeps {
  sessions: ConsoleSessions;
  adminToken: string;
  /** Undefined when the console was not built: pages answer 404 saying so. */
  assets: ConsoleAssets | undefined;
  /** The platform's own areas the proxy may reach: /v1/..., /metrics and the Invoke API. */
  forward: AreaHandler;
  /** Path prefixes (after /console/api) the proxy forwards; anything else is 404. */
  forwardPrefixes: string[];
  /** Read-only access keys may sign in too (docs/console.md#read-only-sign-in). */
  keys: Pick<AccessKeyStore, 'findSecret' | 'scopeOf'>;
}

/** What a read-only session may not read even with GET: key listings. */
const adminOnlyReads = ['/v1/keys'];

/** Served with every console page: no inline script, no other origin, never framed. */
const pageHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function createConsoleArea(deps: ConsoleAreaDeps): AreaHandler {
  return async (req, res, path, rawQuery) => {
    if (path === '/console') {
      leaveBodyUnread(req, res);
      res.writeHead(308, { location: '/console/' });
      res.end();
      return;
    }
    if (path === '/console/api/session') return session(req, res);
    if (path.startsWith('/console/api/')) {
      return proxy(req, res, path.slice('/console/api'.length), rawQuery);
    }
    leaveBodyUnread(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'NIMBUS_HTTP_METHOD_NOT_ALLOWED', `${req.method} is not allowed`);
    }
    if (!deps.assets) {
      throw new HttpError(
        404,
        'NIMBUS_CONSOLE_NOT_BUILT',
        'the console was not built: run `npm run build` (it writes dist/console)',
      );
    }
    // The page is only a shell: it shows the sign-in form until /console/api/session says
    // otherwise, and every piece of data comes through the session-checked proxy.
    if (path === '/console/') return sendAsset(req, res, deps.assets.index, 'no-cache');
    const name = path.startsWith('/console/assets/') ? path.slice('/console/assets/'.length) : '';
    const file = deps.assets.files.get(name);
    if (!file) throw new HttpError(404, 'NIMBUS_HTTP_NOT_FOUND', `no console file ${path}`);
    // Names carry their content hash (scripts/bundle-console.mjs): a new build is a new name.
    return sendAsset(req, res, file, 'public, max-age=31536000, immutable');
  };

  async function session(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') return signIn(req, res);
    const current = deps.sessions.find(cookieOf(req));
    if (req.method === 'GET') {
      req.resume();
      if (!current) throw signInFirst();
      return sendJson(res, 200, sessionView(current), noStore);
    }
    if (req.method === 'DELETE') {
      leaveBodyUnread(req, res);
      if (current) {
        checkWrite(req, current);
        deps.sessions.delete(current.id);
      }
      return sendJson(res, 200, { signedOut: true }, { ...noStore, 'set-cookie': clearCookie() });
    }
    leaveBodyUnread(req, res);
    throw new HttpError(405, 'NIMBUS_HTTP_METHOD_NOT_ALLOWED', `${req.method} is not allowed`);
  }

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A JSON body only: a cross-site HTML form cannot send one without a CORS preflight.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      leaveBodyUnread(req, res);
      throw new HttpError(
        415,
        'NIMBUS_CONSOLE_BAD_SIGN_IN',
        'sign in with a JSON body {"token": "<admin token>"} or {"accessKeyId", "secretAccessKey"}',
      );
    }
    checkOrigin(req);
    const body = (await readJson(req, 16 * 1024)) as Record<string, unknown> | null;
    const created =
      typeof body?.accessKeyId === 'string'
        ? deps.sessions.create({ readOnly: await readOnlyKey(body) })
        : adminSignIn(body);
    sendJson(res, 200, sessionView(created), {
      ...noStore,
      'set-cookie': sessionCookie(req, created.id, deps.sessions.ttlMs),
    });
  }

  function adminSignIn(body: Record<string, unknown> | null): ConsoleSession {
    const token = typeof body?.token === 'string' ? body.token : '';
    if (!sameSecret(token, deps.adminToken)) {
      throw new HttpError(401, 'NIMBUS_AUTH_REQUIRED', 'wrong admin token');
    }
    return deps.sessions.create();
  }

  /**
   * An access key signs in only when its scope is read-only and narrows nothing else: the
   * console shows the whole platform, and a key narrowed to one service must not see the rest.
   */
  async function readOnlyKey(body: Record<string, unknown>): Promise<{ keyId: string }> {
    const id = String(body.accessKeyId);
    const secret = typeof body.secretAccessKey === 'string' ? body.secretAccessKey : '';
    const known = isAccessKeyId(id) ? await deps.keys.findSecret(id) : undefined;
    if (known === undefined || !sameSecret(secret, known)) {
      throw new HttpError(401, 'NIMBUS_AUTH_REQUIRED', 'wrong access key id or secret');
    }
    const scope = await deps.keys.scopeOf(id);
    if (!scope?.readOnly) {
      throw new HttpError(
        403,
        'NIMBUS_CONSOLE_KEY_NOT_READ_ONLY',
        'the console takes an access key only when it is read-only (nimbus keys create --read-only); sign in with the admin token to change things',
      );
    }
    if (isRestricted({ ...scope, readOnly: undefined })) {
      throw new HttpError(
        403,
        'NIMBUS_CONSOLE_KEY_NOT_READ_ONLY',
        'the console shows the whole platform: sign in with a read-only key that is not narrowed to a service, stage or functions',
      );
    }
    return { keyId: id };
  }

  async function proxy(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    rawQuery: string,
  ): Promise<void> {
    const current = deps.sessions.find(cookieOf(req));
    if (!current) {
      leaveBodyUnread(req, res);
      throw signInFirst();
    }
    if (current.readOnly) {
      try {
        await checkReadOnly(req, current, target);
      } catch (error) {
        leaveBodyUnread(req, res);
        throw error;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        checkWrite(req, current);
      } catch (error) {
        leaveBodyUnread(req, res);
        throw error;
      }
    }
    if (!deps.forwardPrefixes.some((p) => target === p || target.startsWith(`${p}/`))) {
      leaveBodyUnread(req, res);
      throw new HttpError(404, 'NIMBUS_HTTP_NOT_FOUND', `no console API route ${target}`);
    }
    // The request goes on as the admin's: the browser's cookie and any AWS signing headers are
    // not passed along, so the areas behind see one credential, the one added here.
    delete req.headers.cookie;
    delete req.headers[csrfHeader];
    for (const name of Object.keys(req.headers)) {
      if (
        name.startsWith('x-amz-') &&
        name !== 'x-amz-invocation-type' &&
        name !== 'x-amz-log-type'
      )
        delete req.headers[name];
    }
    req.headers.authorization = `Bearer ${deps.adminToken}`;
    req.url = rawQuery ? `${target}?${rawQuery}` : target;
    return deps.forward(req, res, target, rawQuery);
  }

  /** A read-only session reads, and only while its key still exists (deleting it signs out). */
  async function checkReadOnly(
    req: IncomingMessage,
    current: ConsoleSession,
    target: string,
  ): Promise<void> {
    const keyId = current.readOnly?.keyId ?? '';
    if ((await deps.keys.findSecret(keyId)) === undefined) {
      deps.sessions.delete(current.id);
      throw signInFirst();
    }
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (!reading || adminOnlyReads.some((p) => target === p || target.startsWith(`${p}/`))) {
      throw new HttpError(
        403,
        'NIMBUS_CONSOLE_READ_ONLY',
        'this console session signed in with a read-only access key: sign in with the admin token to change things',
      );
    }
  }

  function checkWrite(req: IncomingMessage, current: ConsoleSession): void {
    checkOrigin(req);
    const given = req.headers[csrfHeader];
    if (!sameSecret(typeof given === 'string' ? given : undefined, current.csrfToken)) {
      throw new HttpError(
        403,
        'NIMBUS_CONSOLE_CSRF',
        `a console write needs the session's ${csrfHeader} header`,
      );
    }
  }
}

const noStore = { 'cache-control': 'no-store' };

function sessionView(s: ConsoleSession) {
  return { csrfToken: s.csrfToken, expiresAt: s.expiresAt, readOnly: s.readOnly !== undefined };
}

function signInFirst(): HttpError {
  return new HttpError(401, 'NIMBUS_AUTH_REQUIRED', 'sign in to the console first');
}

/** A browser sends Origin on every cross-origin write; one naming another host is refused. */
function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== req.headers.host) {
    throw new HttpError(403, 'NIMBUS_CONSOLE_CSRF', `requests from ${origin} are refused`);
  }
}

export function cookieOf(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === consoleCookie) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function isHttps(req: IncomingMessage): boolean {
  return (
    (req.socket as { encrypted?: boolean }).encrypted === true ||
    req.headers['x-forwarded-proto'] === 'https'
  );
}

function sessionCookie(req: IncomingMessage, id: string, ttlMs: number): string {
  return (
    `${consoleCookie}=${id}; Path=/console; HttpOnly; SameSite=Strict; ` +
    `Max-Age=${Math.floor(ttlMs / 1000)}${isHttps(req) ? '; Secure' : ''}`
  );
}

function clearCookie(): string {
  return `${consoleCookie}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function sendAsset(
  req: IncomingMessage,
  res: ServerResponse,
  file: ConsoleAsset,
  cacheControl: string,
): void {
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? file.gzipped : file.body;
  res.writeHead(200, {
    ...pageHeaders,
    'content-type': file.contentType,
    'content-length': body.length,
    'cache-control': cacheControl,
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
