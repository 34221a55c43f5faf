import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canonicalQuery,
  canonicalUri,
  type SigV4Request,
  verifySigV4,
} from '../../src/platform/auth/sigv4.js';
import { signRequest, type ToSign } from './aws-signer.js';

const keyId = 'NIMBTESTKEY000000001';
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const at = Date.UTC(2026, 0, 15, 12, 30, 0);
const secrets = new Map([[keyId, secret]]);
const verify = (request: SigV4Request, nowMs = at) =>
  verifySigV4(request, {
    service: 'lambda',
    nowMs,
    secretOf: async (id) => secrets.get(id),
  });
const sign = (input: ToSign, over: Partial<{ secret: string; at: number; keyId: string }> = {}) =>
  signRequest(input, {
    accessKeyId: over.keyId ?? keyId,
    secret: over.secret ?? secret,
    at: over.at ?? at,
  });
const invoke: ToSign = {
  path: '/2015-03-31/functions/svc-dev-hello/invocations',
  body: '{"hello":"world"}',
};

describe('SigV4 verification against requests signed by the AWS SDK signer', () => {
  test('a good signature passes and names the key and the region', async () => {
    const result = await verify(await sign(invoke));
    assert.ok(result.ok);
    assert.deepEqual([result.accessKeyId, result.region], [keyId, 'us-east-1']);
  });

  test('paths the SDK encodes (name:alias, ARNs) and query strings verify as sent', async () => {
    const arn = encodeURIComponent(
      'arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-hello:$LATEST',
    );
    const inputs: ToSign[] = [
      { path: '/2015-03-31/functions/svc-dev-hello%3Aprod/invocations' },
      { path: `/2015-03-31/functions/${arn}/invocations` },
      { ...invoke, query: { Qualifier: '$LATEST' } },
      { ...invoke, query: { b: '2', a: 'x y', 'z*': "it's (fine)!" } },
      { ...invoke, body: '' },
      { ...invoke, body: JSON.stringify({ text: 'héllo ☃ \u{1F600}' }) },
      { ...invoke, headers: { 'x-amz-log-type': 'Tail', 'x-amz-client-context': 'e30=' } },
      { ...invoke, method: 'GET', path: '/2015-03-31/functions/a/./b/../invocations/' },
    ];
    for (const input of inputs) {
      const result = await verify(await sign(input));
      assert.equal(result.ok, true, `${input.path} ${JSON.stringify(input.query)}`);
    }
  });

  test('headers with repeated values and odd spacing are canonicalized as the signer did', async () => {
    const request = await sign({ ...invoke, headers: { 'x-amz-meta': '  a   b  ' } });
    assert.equal((await verify(request)).ok, true);
  });

  test('header values are folded as the signer folds them; a repeated header joins with commas', async () => {
    for (const value of ['a\tb', ' a \t b ', 'a  b', 'attempt=1; max=3']) {
      const request = await sign({ ...invoke, headers: { 'x-amz-meta': value } });
      assert.equal((await verify(request)).ok, true, JSON.stringify(value));
    }
    const joined = await sign({ ...invoke, headers: { 'x-amz-meta': 'a,b c' } });
    const repeated = { ...joined, headers: { ...joined.headers, 'x-amz-meta': ['a', ' b  c'] } };
    assert.equal((await verify(repeated)).ok, true);
  });

  test('Authorization parameters in any order and spacing; of one given twice, the last', async () => {
    const request = await sign(invoke);
    const auth = String(request.headers.authorization);
    const param = (name: string) => new RegExp(`${name}=([^,]+)`).exec(auth)![1]!;
    const variants = [
      `AWS4-HMAC-SHA256 Signature=${param('Signature')},Credential=${param('Credential')} ,  SignedHeaders=${param('SignedHeaders')}`,
      `AWS4-HMAC-SHA256 Signature=${'0'.repeat(64)}, ${auth.slice('AWS4-HMAC-SHA256 '.length)},`,
    ];
    for (const authorization of variants) {
      const result = await verify({ ...request, headers: { ...request.headers, authorization } });
      assert.equal(result.ok, true, authorization);
    }
    const bare = await verify({
      ...request,
      headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 Signature=, Foo=bar' },
    });
    assert.equal(
      !bare.ok && bare.message,
      "Authorization header requires 'Credential' parameter. Authorization header requires " +
        "'SignedHeaders' parameter. Authorization header requires 'Signature' parameter.",
    );
  });

  test('a tampered body fails with InvalidSignatureException', async () => {
    const request = await sign(invoke);
    const result = await verify({ ...request, body: Buffer.from('{"hello":"mallory"}') });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.type, 'InvalidSignatureException');
    assert.match(!result.ok ? result.message : '', /signature we calculated does not match/);
  });

  test('a tampered path, query, method or signed header fails', async () => {
    const request = await sign({ ...invoke, query: { Qualifier: '1' } });
    const tampered: SigV4Request[] = [
      { ...request, target: request.target.replace('svc-dev-hello', 'svc-dev-admin') },
      { ...request, target: request.target.replace('Qualifier=1', 'Qualifier=2') },
      { ...request, target: request.target.replace('?Qualifier=1', '') },
      { ...request, method: 'PUT' },
      { ...request, headers: { ...request.headers, 'content-type': 'text/plain' } },
      { ...request, headers: { ...request.headers, host: 'evil.example:8642' } },
    ];
    for (const t of tampered) {
      const result = await verify(t);
      assert.equal(!result.ok && result.type, 'InvalidSignatureException', t.target);
    }
  });

  test('a changed X-Amz-Date fails (the date is part of what is signed)', async () => {
    const request = await sign(invoke);
    const result = await verify({
      ...request,
      headers: { ...request.headers, 'x-amz-date': '20260115T123100Z' },
    });
    assert.equal(!result.ok && result.type, 'InvalidSignatureException');
  });

  test('the wrong secret fails; an unknown key id is UnrecognizedClientException', async () => {
    const wrong = await verify(await sign(invoke, { secret: `${secret.slice(0, -1)}X` }));
    assert.equal(!wrong.ok && wrong.type, 'InvalidSignatureException');
    const unknown = await verify(await sign(invoke, { keyId: 'NIMBUNKNOWNKEY000000' }));
    assert.deepEqual(unknown, {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
      reason: 'unknown-key',
    });
  });

  test('clock skew: 15 minutes either way passes, more is an expired or future signature', async () => {
    const request = await sign(invoke);
    const minute = 60_000;
    assert.equal((await verify(request, at + 15 * minute)).ok, true);
    assert.equal((await verify(request, at - 15 * minute)).ok, true);
    const late = await verify(request, at + 15 * minute + 1000);
    assert.equal(!late.ok && late.type, 'InvalidSignatureException');
    assert.match(
      !late.ok ? late.message : '',
      /^Signature expired: 20260115T123000Z is now earlier/,
    );
    const early = await verify(request, at - 16 * minute);
    assert.match(!early.ok ? early.message : '', /^Signature not yet current/);
  });

  test('a credential scoped to another service is refused', async () => {
    const request = await signRequest(invoke, {
      accessKeyId: keyId,
      secret,
      at,
      service: 's3',
    });
    const result = await verify(request);
    assert.equal(!result.ok && result.type, 'InvalidSignatureException');
    assert.match(!result.ok ? result.message : '', /scoped to correct service: 'lambda'/);
  });

  test('any region is accepted and reported', async () => {
    const request = await signRequest(invoke, {
      accessKeyId: keyId,
      secret,
      at,
      region: 'nimbus-home-1',
    });
    const result = await verify(request);
    assert.ok(result.ok);
    assert.deepEqual([result.accessKeyId, result.region], [keyId, 'nimbus-home-1']);
  });

  test('x-amz-content-sha256 must be the hash of the body when it is sent', async () => {
    const request = await sign({
      ...invoke,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const result = await verify(request);
    assert.equal(!result.ok && result.type, 'InvalidSignatureException');
    assert.match(!result.ok ? result.message : '', /x-amz-content-sha256/);
  });

  test('missing or malformed Authorization headers', async () => {
    const request = await sign(invoke);
    const { authorization, ...unsigned } = request.headers;
    const missing = await verify({ ...request, headers: unsigned });
    assert.equal(!missing.ok && missing.type, 'MissingAuthenticationTokenException');

    const auth = String(authorization);
    const cases: [string, string][] = [
      ['Basic dXNlcjpwYXNz', 'IncompleteSignatureException'],
      [auth.replace(/, Signature=[0-9a-f]+/, ''), 'IncompleteSignatureException'],
      [auth.replace(/Credential=[^,]+/, 'Credential=NIMB/x'), 'IncompleteSignatureException'],
      [auth.replace('aws4_request', 'aws5_request'), 'InvalidSignatureException'],
      [auth.replace(/Signature=[0-9a-f]+/, 'Signature=abc'), 'InvalidSignatureException'],
      [
        auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type'),
        'InvalidSignatureException',
      ],
    ];
    for (const [value, type] of cases) {
      const result = await verify({
        ...request,
        headers: { ...request.headers, authorization: value },
      });
      assert.equal(!result.ok && result.type, type, value);
    }
    const { 'x-amz-date': _date, ...undated } = request.headers;
    const noDate = await verify({ ...request, headers: undated });
    assert.equal(!noDate.ok && noDate.type, 'IncompleteSignatureException');
  });
});

describe('canonical forms', () => {
  test('the path is normalized and encoded a second time', () => {
    assert.equal(
      canonicalUri('/2015-03-31/functions/a%3Ab/invocations'),
      '/2015-03-31/functions/a%253Ab/invocations',
    );
    assert.equal(canonicalUri('/a//b/./c/../d/'), '/a/b/d/');
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalUri(''), '/');
  });

  test('the query is decoded, re-encoded and sorted by name then value', () => {
    assert.equal(canonicalQuery('b=2&a=%24LATEST&a=1&c'), 'a=%24LATEST&a=1&b=2&c=');
    assert.equal(canonicalQuery('x=a%20b&y=%7E*'), 'x=a%20b&y=~%2A');
    assert.equal(canonicalQuery(''), '');
  });
});
