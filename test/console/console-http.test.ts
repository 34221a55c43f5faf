import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningPlatform } from '../../src/platform/server.js';
import { startCliPlatform } from '../helpers/cli-platform.js';

/** The console's HTTP surface without a browser: sessions, cookie flags, CSRF, caching. */
describe('console: sessions, CSRF and assets over HTTP', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ platform, close: cleanup } = await startCliPlatform());
  });
  after(() => cleanup());

  const at = (path: string, init: RequestInit = {}) =>
    fetch(`${platform.url}${path}`, { redirect: 'manual', ...init });
  const signIn = async () => {
    const res = await at('/console/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: platform.adminToken }),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie')!;
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    return { cookie: cookie.split(';')[0]!, setCookie: cookie, csrfToken };
  };

  test('the page and its assets: security headers, immutable hashed assets, no token', async () => {
    const redirect = await at('/console');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/console/');

    const page = await at('/console/', { headers: { 'accept-encoding': 'identity' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    const html = await page.text();
    assert.ok(!html.includes(platform.adminToken));
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2, html);
    for (const asset of assets) {
      assert.match(asset, /-[A-Z0-9]{8}\.(js|css)$/);
      const res = await at(`/console/${asset}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('content-encoding'), 'gzip');
      const body = await res.text();
      assert.ok(!body.includes(platform.adminToken));
      if (asset.endsWith('.js')) {
        // The budget the build enforces, checked on what is actually served.
        assert.ok(Number(res.headers.get('content-length')) < 200 * 1024);
      }
    }
    assert.equal((await at('/console/assets/nope.js')).status, 404);
    assert.equal((await at('/console/assets/../index.html')).status, 404);
  });

  test('no API without a session; a wrong token or a form post does not sign in', async () => {
    for (const path of [
      '/console/api/v1/services',
      '/console/api/metrics',
      '/console/api/session',
    ]) {
      const res = await at(path);
      assert.equal(res.status, 401, path);
      const bogus = await at(path, { headers: { cookie: 'nimbus_console=forged' } });
      assert.equal(bogus.status, 401, path);
    }
    // The admin token as a bearer does not open the console's proxy either: only a session does.
    const bearer = await at('/console/api/v1/services', {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    assert.equal(bearer.status, 401);
    const wrong = await at('/console/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: `${platform.adminToken}x` }),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const form = await at('/console/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${platform.adminToken}`,
    });
    assert.equal(form.status, 415);
    assert.equal(
      ((await form.json()) as { error: { code: string } }).error.code,
      'NIMBUS_CONSOLE_BAD_SIGN_IN',
    );
  });

  test('sign-in sets a strict HttpOnly cookie; writes need the CSRF header; sign-out ends it', async () => {
    const { cookie, setCookie, csrfToken } = await signIn();
    assert.match(setCookie, /^nimbus_console=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /; Path=\/console;/);
    assert.match(setCookie, /; HttpOnly;/);
    assert.match(setCookie, /; SameSite=Strict;/);
    assert.match(setCookie, /; Max-Age=\d+/);
    assert.ok(!setCookie.includes(platform.adminToken));

    const listed = await at('/console/api/v1/services', { headers: { cookie } });
    assert.equal(listed.status, 200);
    assert.deepEqual(await listed.json(), { services: [] });
    const metrics = await at('/console/api/metrics', { headers: { cookie } });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /process_resident_memory_bytes/);

    const noCsrf = await at('/console/api/v1/invocations/nope/stop', {
      method: 'POST',
      headers: { cookie },
    });
    assert.equal(noCsrf.status, 403);
    assert.equal(
      ((await noCsrf.json()) as { error: { code: string } }).error.code,
      'NIMBUS_CONSOLE_CSRF',
    );
    const wrongCsrf = await at('/console/api/v1/invocations/nope/stop', {
      method: 'POST',
      headers: { cookie, 'x-nimbus-csrf': `${csrfToken}x` },
    });
    assert.equal(wrongCsrf.status, 403);
    const otherOrigin = await at('/console/api/v1/invocations/nope/stop', {
      method: 'POST',
      headers: { cookie, 'x-nimbus-csrf': csrfToken, origin: 'http://evil.example' },
    });
    assert.equal(otherOrigin.status, 403);
    // With both, the request reaches the control API (which has no such invocation).
    const passed = await at('/console/api/v1/invocations/nope/stop', {
      method: 'POST',
      headers: { cookie, 'x-nimbus-csrf': csrfToken },
    });
    assert.equal(passed.status, 404);
    assert.equal(
      ((await passed.json()) as { error: { code: string } }).error.code,
      'NIMBUS_NOT_FOUND',
    );
    // Only the platform's own APIs are behind the proxy.
    assert.equal((await at('/console/api/health', { headers: { cookie } })).status, 404);

    const noCsrfSignOut = await at('/console/api/session', {
      method: 'DELETE',
      headers: { cookie },
    });
    assert.equal(noCsrfSignOut.status, 403);
    const out = await at('/console/api/session', {
      method: 'DELETE',
      headers: { cookie, 'x-nimbus-csrf': csrfToken },
    });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /^nimbus_console=; .*Max-Age=0/);
    assert.equal((await at('/console/api/v1/services', { headers: { cookie } })).status, 401);
  });

  test('the event-stream tail through the proxy answers an unknown function as the NDJSON one does', async () => {
    const { cookie } = await signIn();
    const res = await at('/console/api/v1/functions/nope/logs/tail', {
      headers: { cookie, accept: 'text/event-stream' },
    });
    // Unknown function: the same 404 as the NDJSON tail.
    assert.equal(res.status, 404);
  });

  test('a read-only access key signs in to a session that reads and never writes', async () => {
    const makeKey = async (scope: Record<string, unknown>) => {
      const res = await at('/v1/keys', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${platform.adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ description: 'console', scope }),
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { key: { id: string; secret: string } }).key;
    };
    const keySignIn = (accessKeyId: string, secretAccessKey: string) =>
      at('/console/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accessKeyId, secretAccessKey }),
      });
    const codeOf = async (res: Response) =>
      ((await res.json()) as { error: { code: string } }).error.code;

    const viewer = await makeKey({ readOnly: true });
    const full = await makeKey({});
    const narrowed = await makeKey({ readOnly: true, service: 'shop' });

    assert.equal((await keySignIn(viewer.id, 'wrong')).status, 401);
    assert.equal((await keySignIn('NIMBNOSUCHKEY0000000', viewer.secret)).status, 401);
    assert.equal((await keySignIn('not a key id', viewer.secret)).status, 401);
    const writer = await keySignIn(full.id, full.secret);
    assert.equal(writer.status, 403);
    assert.equal(await codeOf(writer), 'NIMBUS_CONSOLE_KEY_NOT_READ_ONLY');
    assert.equal((await keySignIn(narrowed.id, narrowed.secret)).status, 403);

    const signedIn = await keySignIn(viewer.id, viewer.secret);
    assert.equal(signedIn.status, 200);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken, readOnly } = (await signedIn.json()) as {
      csrfToken: string;
      readOnly: boolean;
    };
    assert.equal(readOnly, true);
    const session = await at('/console/api/session', { headers: { cookie } });
    assert.equal(((await session.json()) as { readOnly: boolean }).readOnly, true);

    assert.equal((await at('/console/api/v1/services', { headers: { cookie } })).status, 200);
    // Writes are refused even with the CSRF header, and so is the key listing.
    const write = await at('/console/api/v1/backup', {
      method: 'POST',
      headers: { cookie, 'x-nimbus-csrf': csrfToken },
    });
    assert.equal(write.status, 403);
    assert.equal(await codeOf(write), 'NIMBUS_CONSOLE_READ_ONLY');
    const invoke = await at('/console/api/2015-03-31/functions/nope/invocations', {
      method: 'POST',
      headers: { cookie, 'x-nimbus-csrf': csrfToken },
      body: '{}',
    });
    assert.equal(invoke.status, 403);
    const keys = await at('/console/api/v1/keys', { headers: { cookie } });
    assert.equal(keys.status, 403);

    // Deleting the key ends the session at its next request.
    const deleted = await at(`/v1/keys/${viewer.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    assert.ok(deleted.ok);
    assert.equal((await at('/console/api/v1/services', { headers: { cookie } })).status, 401);
    assert.equal((await at('/console/api/session', { headers: { cookie } })).status, 401);
  });
});
