/**
 * Header values with whitespace the SDKs fold differently (NBSP, vertical tab, form feed, NEL)
 * or characters past ASCII (which the JS SDK sends as UTF-8 and botocore as latin-1): a request
 * signed by the JS SDK v3's signer (@smithy/signature-v4) and one signed by botocore (the Python
 * SDKs and the AWS CLI, run here through python3) both verify, as the header reaches the server
 * off the wire, and a value changed after signing still does not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { type SigV4Request, verifySigV4 } from '../../src/platform/auth/sigv4.js';
import { signRequest } from './aws-signer.js';

const keyId = 'NIMBTESTKEY000000001';
const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const secrets = new Map([[keyId, secret]]);
const verify = (request: SigV4Request, nowMs: number) =>
  verifySigV4(request, { service: 's3', nowMs, secretOf: async (id) => secrets.get(id) });

/** Values each SDK folds its own way; the last ones fold the same everywhere. */
const values = [
  'prix\u00a0: 10\u00a0€'.replace('€', 'EUR'),
  'a \u00a0 b',
  'a\u000bb',
  'a\u000cb',
  'a\u0085b',
  '\u00a0lead and trail\u00a0',
  'plain  spaces',
  'café crème',
  'naïve\u00a0résumé',
];

const hasBotocore =
  spawnSync('python3', ['-c', 'import botocore.auth'], { stdio: 'ignore' }).status === 0;

/** botocore's SigV4Auth signs the request; its headers (latin-1 on the wire) come back. */
function signWithBotocore(value: string): Record<string, string> {
  const script = `
import json, sys
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
value = json.loads(sys.stdin.read())
req = AWSRequest(method='GET', url='http://127.0.0.1:8642/bucket/key', headers={'x-amz-meta-note': value})
S3SigV4Auth(Credentials('${keyId}', '${secret}'), 's3', 'us-east-1').add_auth(req)
print(json.dumps({k.lower(): v for k, v in req.headers.items()}))
`;
  const out = spawnSync('python3', ['-c', script], { input: JSON.stringify(value) });
  assert.equal(out.status, 0, String(out.stderr));
  return JSON.parse(String(out.stdout)) as Record<string, string>;
}

describe('SigV4: header whitespace as each SDK folds it', () => {
  test('the JS SDK v3 signer: every value verifies; a changed value does not', async () => {
    const at = Date.UTC(2026, 0, 15, 12, 30, 0);
    for (const value of values) {
      const request = await signRequest(
        { method: 'GET', path: '/bucket/key', headers: { 'x-amz-meta-note': value } },
        { accessKeyId: keyId, secret, at, service: 's3' },
      );
      // On the wire as the SDK's HTTP handler sends it (UTF-8), read by Node a byte a character
      // (latin1), its outer spaces and tabs already stripped.
      request.headers['x-amz-meta-note'] = Buffer.from(value, 'utf8')
        .toString('latin1')
        .replace(/^[ \t]+|[ \t]+$/g, '');
      const result = await verify(request, at);
      assert.equal(result.ok, true, JSON.stringify(value));
      const changed = {
        ...request,
        headers: { ...request.headers, 'x-amz-meta-note': `${value}x` },
      };
      const refused = await verify(changed, at);
      assert.equal(refused.ok, false, JSON.stringify(value));
    }
  });

  test('botocore (boto3, the AWS CLI): every value verifies; a changed value does not', {
    skip: !hasBotocore && 'python3 with botocore is not installed',
  }, async () => {
    for (const value of values) {
      // Python's http.client sends the value latin-1 encoded: Node reads it back as it was.
      const headers = signWithBotocore(value);
      // botocore signs the Host it takes from the URL; the wire carries it.
      headers.host ??= '127.0.0.1:8642';
      const request: SigV4Request = { method: 'GET', target: '/bucket/key', headers };
      const result = await verify(request, Date.now());
      assert.equal(result.ok, true, JSON.stringify(value));
      const changed = { ...request, headers: { ...headers, 'x-amz-meta-note': `${value}x` } };
      assert.equal((await verify(changed, Date.now())).ok, false, JSON.stringify(value));
    }
  });
});
