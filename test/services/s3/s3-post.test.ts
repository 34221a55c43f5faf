/**
 * Browser form uploads (presigned POST): policies made by the official
 * @aws-sdk/s3-presigned-post, posted as real multipart/form-data (the FormData a browser builds),
 * to an S3 host name, since a form carries no signature the front door could see. On SQLite and
 * PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { deployService } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { postForm } from './form-post.js';
import { type S3Platform, s3Variants, startS3Platform } from './s3-platform.js';

function formOf(fields: Record<string, string>, file: Blob, filename = 'upload.bin'): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, filename);
  return form;
}

function errorCode(body: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
}

for (const variant of s3Variants)
  describe(`S3 presigned POST on ${variant.name}`, () => {
    let s3: S3Platform;
    let client: S3Client;
    /** The presigning client names the S3 host, as a page posting a form would. */
    let signer: S3Client;
    /** Added to the platform's clock, to let a policy expire. */
    let offset = 0;

    before(async () => {
      s3 = await startS3Platform(variant, { clock: { now: () => Date.now() + offset } });
      client = s3.client();
      const port = new URL(s3.platform.url).port;
      signer = s3.client({ endpoint: `http://s3.localhost:${port}` });
      await client.send(new CreateBucketCommand({ Bucket: 'forms' }));
    });
    after(async () => {
      await s3?.close();
    });

    test('a form upload stores the file under the policy key, with metadata and type', async () => {
      const bytes = randomBytes(300_000);
      // Bytes that look like multipart framing must survive.
      bytes.write('\r\n--\r\n\r\n', 1000, 'latin1');
      const { url, fields } = await createPresignedPost(signer, {
        Bucket: 'forms',
        Key: 'uploads/${filename}',
        Conditions: [
          ['content-length-range', 1, 1_000_000],
          ['starts-with', '$Content-Type', 'image/'],
        ],
        Fields: { 'x-amz-meta-owner': 'ana', success_action_status: '201' },
        Expires: 600,
      });
      assert.equal(new URL(url).pathname, '/forms');
      const posted = await postForm(
        s3.platform.url,
        url,
        formOf({ ...fields, 'Content-Type': 'image/png' }, new Blob([bytes]), 'C:\\pics\\cat.png'),
      );
      assert.equal(posted.status, 201, posted.body);
      const md5 = createHash('md5').update(bytes).digest('hex');
      assert.match(
        posted.body,
        /<PostResponse[^>]*><Location>\/forms\/uploads\/cat\.png<\/Location>/,
      );
      assert.match(
        posted.body,
        new RegExp(`<ETag>&quot;${md5}&quot;</ETag>|<ETag>"${md5}"</ETag>`),
      );
      assert.equal(posted.headers.etag, `"${md5}"`);

      const got = await client.send(
        new GetObjectCommand({ Bucket: 'forms', Key: 'uploads/cat.png' }),
      );
      assert.equal(got.ContentType, 'image/png');
      assert.deepEqual(got.Metadata, { owner: 'ana' });
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes));
    });

    test("path style on the platform address: a form POST to /<bucket> is S3's, unless a route has the path", async () => {
      const { url, fields } = await createPresignedPost(client, {
        Bucket: 'forms',
        Key: 'plain-address/${filename}',
        Fields: { success_action_status: '201' },
      });
      assert.equal(new URL(url).host, new URL(s3.platform.url).host);
      const posted = await postForm(
        s3.platform.url,
        url,
        formOf(fields, new Blob(['by address']), 'a.txt'),
      );
      assert.equal(posted.status, 201, posted.body);
      const got = await client.send(
        new GetObjectCommand({ Bucket: 'forms', Key: 'plain-address/a.txt' }),
      );
      assert.equal(await got.Body!.transformToString(), 'by address');

      // Still signed: a bad signature is S3's refusal, and stores nothing.
      const forged = await postForm(
        s3.platform.url,
        url,
        formOf({ ...fields, 'x-amz-signature': '0'.repeat(64) }, new Blob(['x']), 'b.txt'),
      );
      assert.equal(forged.status, 403);
      assert.equal(errorCode(forged.body), 'SignatureDoesNotMatch');
      // Not a bucket, or not a form: the gateway's 404, as before.
      const noBucket = await postForm(
        s3.platform.url,
        url.replace('/forms', '/no-such-bucket'),
        formOf(fields, new Blob(['x']), 'c.txt'),
      );
      assert.equal(noBucket.status, 404);
      assert.equal(errorCode(noBucket.body), undefined, noBucket.body);
      const notForm = await fetch(url, { method: 'POST', body: 'key=x' });
      assert.equal(notForm.status, 404);
      assert.equal(errorCode(await notForm.text()), undefined);

      // Gateway routes live under `/<service>-<stage>`: a bucket of that name shares the path
      // with the stage's `/` route, and the deployed route wins.
      await client.send(new CreateBucketCommand({ Bucket: 'svc-dev' }));
      await deployService(
        s3.platform,
        serviceDef([fnDef('api', { events: [{ kind: 'httpApi', method: 'POST', path: '/' }] })]),
        { 'handler.js': 'exports.api = async () => ({ statusCode: 200 });' },
      );
      const stage = await createPresignedPost(client, { Bucket: 'svc-dev', Key: 'd.txt' });
      const routed = await postForm(
        s3.platform.url,
        stage.url,
        formOf(stage.fields, new Blob(['to the route']), 'd.txt'),
      );
      assert.equal(errorCode(routed.body), undefined, routed.body);
      assert.notEqual(routed.status, 204, routed.body);
      const absent = await client
        .send(new GetObjectCommand({ Bucket: 'svc-dev', Key: 'd.txt' }))
        .then(
          () => 'stored',
          (e: Error) => e.name,
        );
      assert.equal(absent, 'NoSuchKey');
    });

    test('the default answer is 204; success_action_redirect answers 303 to the page', async () => {
      const plain = await createPresignedPost(signer, { Bucket: 'forms', Key: 'plain.txt' });
      const posted = await postForm(
        s3.platform.url,
        plain.url,
        formOf(plain.fields, new Blob(['hello'])),
      );
      assert.equal(posted.status, 204, posted.body);

      const redirect = 'https://app.example/done?x=1';
      const redirected = await createPresignedPost(signer, {
        Bucket: 'forms',
        Key: 'redirected.txt',
        Fields: { success_action_redirect: redirect },
      });
      const answer = await postForm(
        s3.platform.url,
        redirected.url,
        formOf(redirected.fields, new Blob(['hi'])),
      );
      assert.equal(answer.status, 303, answer.body);
      const location = new URL(String(answer.headers.location));
      assert.equal(location.origin, 'https://app.example');
      assert.equal(location.searchParams.get('x'), '1');
      assert.equal(location.searchParams.get('bucket'), 'forms');
      assert.equal(location.searchParams.get('key'), 'redirected.txt');
      const got = await client.send(
        new GetObjectCommand({ Bucket: 'forms', Key: 'redirected.txt' }),
      );
      assert.equal(await got.Body!.transformToString(), 'hi');
    });

    test('policy violations are refused in S3 XML and store nothing', async () => {
      const { url, fields } = await createPresignedPost(signer, {
        Bucket: 'forms',
        Key: 'limited/${filename}',
        Conditions: [['content-length-range', 0, 1024]],
        Expires: 60,
      });
      const tooLarge = await postForm(
        s3.platform.url,
        url,
        formOf(fields, new Blob([randomBytes(4096)])),
      );
      assert.equal(tooLarge.status, 400);
      assert.equal(errorCode(tooLarge.body), 'EntityTooLarge');

      const wrongKey = await postForm(
        s3.platform.url,
        url,
        formOf({ ...fields, key: 'elsewhere/x.bin' }, new Blob(['x'])),
      );
      assert.equal(wrongKey.status, 403);
      assert.equal(errorCode(wrongKey.body), 'AccessDenied');
      assert.match(wrongKey.body, /Policy Condition failed/);

      const extra = await postForm(
        s3.platform.url,
        url,
        formOf({ ...fields, 'x-amz-meta-sneaky': 'yes' }, new Blob(['x'])),
      );
      assert.equal(errorCode(extra.body), 'AccessDenied');

      const tampered = await postForm(
        s3.platform.url,
        url,
        formOf({ ...fields, 'X-Amz-Signature': '0'.repeat(64) }, new Blob(['x'])),
      );
      assert.equal(tampered.status, 403);
      assert.equal(errorCode(tampered.body), 'SignatureDoesNotMatch');

      const garbage = Buffer.from('not json').toString('base64');
      const invalid = await postForm(
        s3.platform.url,
        url,
        formOf({ ...fields, Policy: garbage }, new Blob(['x'])),
      );
      // The signature covers the policy, so a swapped policy fails its signature first.
      assert.equal(errorCode(invalid.body), 'SignatureDoesNotMatch');

      const unsigned = await postForm(
        s3.platform.url,
        url,
        formOf({ key: 'limited/u.bin' }, new Blob(['x'])),
      );
      assert.equal(unsigned.status, 403);
      assert.equal(errorCode(unsigned.body), 'AccessDenied');

      offset = 61_000;
      const expired = await postForm(s3.platform.url, url, formOf(fields, new Blob(['x'])));
      offset = 0;
      assert.equal(expired.status, 403);
      assert.equal(errorCode(expired.body), 'AccessDenied');
      assert.match(expired.body, /Policy expired/);

      const listed = await fetchKeys(client, 'limited/');
      assert.deepEqual(listed, []);
    });

    test('a form cut short is MalformedPOSTRequest', async () => {
      const port = new URL(s3.platform.url).port;
      const body = '--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\ncut.txt\r\n--xy';
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/forms',
            headers: {
              host: `s3.localhost:${port}`,
              'content-type': 'multipart/form-data; boundary=xyz',
              'content-length': Buffer.byteLength(body),
            },
          },
          (r) => {
            let text = '';
            r.on('data', (c: Buffer) => {
              text += c.toString();
            });
            r.on('end', () => resolve({ status: r.statusCode!, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), 'MalformedPOSTRequest');
    });

    test('a policy that is not a policy document is InvalidPolicyDocument', async () => {
      const signed = await createPresignedPost(signer, { Bucket: 'forms', Key: 'p.txt' });
      // A correctly signed document without conditions: signed with the same key derivation.
      const { createHmac } = await import('node:crypto');
      const credential = signed.fields['X-Amz-Credential']!;
      const [, date, region] = credential.split('/');
      let key = createHmac('sha256', `AWS4${s3.key.secret}`).update(date!).digest();
      for (const part of [region!, 's3', 'aws4_request']) {
        key = createHmac('sha256', key).update(part).digest();
      }
      const policy = Buffer.from(JSON.stringify({ expiration: '2999-01-01T00:00:00Z' })).toString(
        'base64',
      );
      const signature = createHmac('sha256', key).update(policy).digest('hex');
      const posted = await postForm(
        s3.platform.url,
        signed.url,
        formOf({ ...signed.fields, Policy: policy, 'X-Amz-Signature': signature }, new Blob(['x'])),
      );
      assert.equal(posted.status, 400, posted.body);
      assert.equal(errorCode(posted.body), 'InvalidPolicyDocument');
    });
  });

async function fetchKeys(client: S3Client, prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const out = await client.send(new ListObjectsV2Command({ Bucket: 'forms', Prefix: prefix }));
  return (out.Contents ?? []).map((c) => c.Key!);
}
