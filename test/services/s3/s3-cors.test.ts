/**
 * Bucket CORS: Put/Get/DeleteBucketCors through the official SDK, the configuration checks S3
 * makes, browser preflights (unsigned OPTIONS) on S3 host names and path style on the
 * platform's own address, the Access-Control-* headers of actual requests, and
 * `CorsConfiguration` of AWS::S3::Bucket in a deployed service. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  type GetBucketCorsCommandOutput,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { failure, type S3Platform, s3Variants, startS3Platform } from './s3-platform.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request as a browser sends it, to the platform whatever host name it claims. */
function raw(
  platformUrl: string,
  opts: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Raw> {
  const platform = new URL(platformUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: platform.hostname,
        port: platform.port,
        method: opts.method,
        path: opts.path,
        headers: opts.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const tag = (body: string, name: string) =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];

const app = 'http://app.example.test:3000';

for (const variant of s3Variants)
  describe(`S3 bucket CORS on ${variant.name}`, () => {
    let s3: S3Platform;
    let client: S3Client;
    let s3Host: string;

    before(async () => {
      s3 = await startS3Platform(variant);
      client = s3.client();
      s3Host = `s3.localhost:${new URL(s3.platform.url).port}`;
      for (const Bucket of ['pics', 'plain'])
        await client.send(new CreateBucketCommand({ Bucket }));
      await client.send(
        new PutBucketCorsCommand({
          Bucket: 'pics',
          CORSConfiguration: {
            CORSRules: [
              {
                ID: 'uploads',
                AllowedOrigins: [app, 'https://*.example.org'],
                AllowedMethods: ['PUT', 'GET'],
                AllowedHeaders: ['content-type', 'x-amz-*'],
                ExposeHeaders: ['ETag', 'x-amz-request-id'],
                MaxAgeSeconds: 600,
              },
              { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
            ],
          },
        }),
      );
    });
    after(async () => {
      client?.destroy();
      await s3?.close();
    });

    test('GetBucketCors returns the rules as put; DeleteBucketCors removes them', async () => {
      const got: GetBucketCorsCommandOutput = await client.send(
        new GetBucketCorsCommand({ Bucket: 'pics' }),
      );
      assert.deepEqual(got.CORSRules, [
        {
          ID: 'uploads',
          AllowedOrigins: [app, 'https://*.example.org'],
          AllowedMethods: ['PUT', 'GET'],
          AllowedHeaders: ['content-type', 'x-amz-*'],
          ExposeHeaders: ['ETag', 'x-amz-request-id'],
          MaxAgeSeconds: 600,
        },
        { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
      ]);

      await client.send(new CreateBucketCommand({ Bucket: 'temp-cors' }));
      const none = await failure(() =>
        client.send(new GetBucketCorsCommand({ Bucket: 'temp-cors' })),
      );
      assert.equal(none.name, 'NoSuchCORSConfiguration');
      assert.equal(none.$metadata.httpStatusCode, 404);
      await client.send(
        new PutBucketCorsCommand({
          Bucket: 'temp-cors',
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
        }),
      );
      const deleted = await client.send(new DeleteBucketCorsCommand({ Bucket: 'temp-cors' }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      const gone = await failure(() =>
        client.send(new GetBucketCorsCommand({ Bucket: 'temp-cors' })),
      );
      assert.equal(gone.name, 'NoSuchCORSConfiguration');
      // Deleting what is not there is no error, as on S3.
      await client.send(new DeleteBucketCorsCommand({ Bucket: 'temp-cors' }));

      const missing = await failure(() =>
        client.send(new GetBucketCorsCommand({ Bucket: 'nope-cors' })),
      );
      assert.equal(missing.name, 'NoSuchBucket');
      const putMissing = await failure(() =>
        client.send(
          new PutBucketCorsCommand({
            Bucket: 'nope-cors',
            CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
          }),
        ),
      );
      assert.equal(putMissing.name, 'NoSuchBucket');
    });

    test('configurations S3 refuses are refused, and the rules in place stay', async () => {
      const put = (CORSRules: unknown[]) =>
        failure(() =>
          client.send(
            new PutBucketCorsCommand({
              Bucket: 'pics',
              CORSConfiguration: { CORSRules } as never,
            }),
          ),
        );
      const method = await put([{ AllowedOrigins: ['*'], AllowedMethods: ['OPTIONS'] }]);
      assert.equal(method.name, 'InvalidRequest');
      assert.match(method.message, /Unsupported method is OPTIONS/);
      const origin = await put([{ AllowedOrigins: ['http://*.*.com'], AllowedMethods: ['GET'] }]);
      assert.equal(origin.name, 'InvalidRequest');
      assert.match(
        origin.message,
        /AllowedOrigin "http:\/\/\*\.\*\.com" can not have more than one wildcard/,
      );
      const header = await put([
        { AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] },
      ]);
      assert.equal(header.name, 'InvalidRequest');
      assert.match(header.message, /AllowedHeader "x-\*-\*"/);
      const noMethods = await put([{ AllowedOrigins: ['*'], AllowedMethods: [] }]);
      assert.equal(noMethods.name, 'MalformedXML');
      const tooMany = await put(
        Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] })),
      );
      assert.equal(tooMany.name, 'MalformedXML');
      const longId = await put([
        { ID: 'x'.repeat(256), AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
      ]);
      assert.equal(longId.name, 'MalformedXML');
      const hundred = Array.from({ length: 100 }, (_, i) => ({
        ID: `r${i}`,
        AllowedOrigins: ['*'],
        AllowedMethods: ['GET'],
      }));
      await client.send(new CreateBucketCommand({ Bucket: 'hundred-rules' }));
      await client.send(
        new PutBucketCorsCommand({
          Bucket: 'hundred-rules',
          CORSConfiguration: { CORSRules: hundred },
        }),
      );
      const kept = await client.send(new GetBucketCorsCommand({ Bucket: 'pics' }));
      assert.equal(kept.CORSRules?.[0]?.ID, 'uploads');

      const notXml = await raw(s3.platform.url, {
        method: 'PUT',
        path: '/pics?cors',
        headers: { host: s3Host },
        body: '<CORSConfiguration>',
      });
      assert.equal(notXml.status, 403, 'unsigned: refused before the body is read');
    });

    test('a preflight for an allowed origin, method and headers is answered 200 with the rule', async () => {
      const answer = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: '/pics/uploads/cat.png',
        headers: {
          host: s3Host,
          origin: app,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'Content-Type, X-Amz-Meta-Owner',
        },
      });
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.headers['access-control-allow-origin'], app);
      assert.equal(answer.headers['access-control-allow-methods'], 'PUT, GET');
      assert.equal(
        answer.headers['access-control-allow-headers'],
        'content-type, x-amz-meta-owner',
      );
      assert.equal(answer.headers['access-control-expose-headers'], 'ETag, x-amz-request-id');
      assert.equal(answer.headers['access-control-max-age'], '600');
      assert.equal(answer.headers['access-control-allow-credentials'], 'true');
      assert.match(String(answer.headers.vary), /Origin/);

      // The wildcard origin of the first rule, virtual-host style.
      const hosted = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: '/a.txt',
        headers: {
          host: `pics.${s3Host}`,
          origin: 'https://shop.example.org',
          'access-control-request-method': 'GET',
        },
      });
      assert.equal(hosted.status, 200, hosted.body);
      assert.equal(hosted.headers['access-control-allow-origin'], 'https://shop.example.org');

      // Any origin, from the second rule: answered `*`, without credentials.
      const any = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: '/pics/a.txt',
        headers: {
          host: s3Host,
          origin: 'http://elsewhere.test',
          'access-control-request-method': 'HEAD',
        },
      });
      assert.equal(any.status, 200, any.body);
      assert.equal(any.headers['access-control-allow-origin'], '*');
      assert.equal(any.headers['access-control-allow-credentials'], undefined);
    });

    test('preflights no rule allows are refused in S3 shape', async () => {
      const ask = (path: string, headers: Record<string, string>) =>
        raw(s3.platform.url, { method: 'OPTIONS', path, headers: { host: s3Host, ...headers } });

      const method = await ask('/pics/a.txt', {
        origin: app,
        'access-control-request-method': 'DELETE',
      });
      assert.equal(method.status, 403);
      assert.equal(tag(method.body, 'Code'), 'AccessForbidden');
      assert.match(tag(method.body, 'Message')!, /^CORSResponse: This CORS request is not allowed/);
      assert.equal(tag(method.body, 'Method'), 'DELETE');
      assert.equal(tag(method.body, 'ResourceType'), 'OBJECT');
      assert.equal(method.headers['access-control-allow-origin'], undefined);

      const header = await ask('/pics/a.txt', {
        origin: app,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization',
      });
      assert.equal(header.status, 403);
      const origin = await ask('/pics', {
        origin: 'http://evil.test',
        'access-control-request-method': 'PUT',
      });
      assert.equal(origin.status, 403);
      assert.equal(tag(origin.body, 'ResourceType'), 'BUCKET');
      // A wildcard stands for a whole part of the origin, never a different scheme.
      const scheme = await ask('/pics', {
        origin: 'http://shop.example.org',
        'access-control-request-method': 'PUT',
      });
      assert.equal(scheme.status, 403);

      const noOrigin = await ask('/pics/a.txt', { 'access-control-request-method': 'PUT' });
      assert.equal(noOrigin.status, 400);
      assert.equal(tag(noOrigin.body, 'Code'), 'BadRequest');
      assert.equal(
        tag(noOrigin.body, 'Message'),
        'Insufficient information. Origin request header needed.',
      );
      const noMethod = await ask('/pics/a.txt', { origin: app });
      assert.equal(noMethod.status, 400);
      assert.equal(tag(noMethod.body, 'Code'), 'BadRequest');

      const noConfig = await ask('/plain/a.txt', {
        origin: app,
        'access-control-request-method': 'PUT',
      });
      assert.equal(noConfig.status, 403);
      assert.equal(
        tag(noConfig.body, 'Message'),
        'CORSResponse: CORS is not enabled for this bucket.',
      );
      const noBucket = await ask('/nope-cors/a.txt', {
        origin: app,
        'access-control-request-method': 'PUT',
      });
      assert.equal(noBucket.status, 403);
      assert.equal(tag(noBucket.body, 'Message'), 'CORSResponse: Bucket not found');
    });

    test('path style on the platform address: a presigned URL and a header-signed request are preflighted', async () => {
      const url = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket: 'pics', Key: 'uploads/dog.png' }),
        { expiresIn: 300 },
      );
      const target = new URL(url);
      assert.equal(target.host, new URL(s3.platform.url).host);
      const presigned = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: `${target.pathname}${target.search}`,
        headers: {
          host: target.host,
          origin: app,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'content-type',
        },
      });
      assert.equal(presigned.status, 200, presigned.body);
      assert.equal(presigned.headers['access-control-allow-origin'], app);

      // What the SDK in a page asks before a header-signed PutObject.
      const signed = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: '/pics/uploads/dog.png',
        headers: {
          host: target.host,
          origin: app,
          'access-control-request-method': 'PUT',
          'access-control-request-headers':
            'amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-content-sha256,x-amz-date,x-amz-user-agent',
        },
      });
      assert.equal(signed.status, 403, 'authorization is not an allowed header of the rule');
      assert.equal(tag(signed.body, 'Code'), 'AccessForbidden');
    });

    test('actual requests from an allowed origin carry the headers; others do not', async () => {
      const put = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket: 'pics', Key: 'uploads/bird.png' }),
        { expiresIn: 300 },
      );
      const stored = await fetch(put, {
        method: 'PUT',
        headers: { origin: app, 'content-type': 'image/png' },
        body: 'tweet',
      });
      assert.equal(stored.status, 200);
      assert.equal(stored.headers.get('access-control-allow-origin'), app);
      assert.equal(stored.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');
      assert.match(stored.headers.get('vary') ?? '', /Origin/);

      const other = await fetch(put, {
        method: 'PUT',
        headers: { origin: 'http://evil.test' },
        body: 'x',
      });
      assert.equal(other.status, 200, 'CORS is the browser’s to enforce; the request is signed');
      assert.equal(other.headers.get('access-control-allow-origin'), null);

      // An error answer carries them too, so a page can read why.
      const expired = new URL(put);
      expired.searchParams.set('X-Amz-Signature', '0'.repeat(64));
      const refused = await fetch(expired, { method: 'PUT', headers: { origin: app }, body: 'x' });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('access-control-allow-origin'), app);
    });

    test('an unsigned request is still refused, whatever its Origin or rules', async () => {
      for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
        const answer = await raw(s3.platform.url, {
          method,
          path: '/pics/uploads/bird.png',
          headers: { host: s3Host, origin: app, 'access-control-request-method': 'GET' },
        });
        assert.equal(answer.status, 403, `${method} unsigned`);
      }
      const listing = await raw(s3.platform.url, {
        method: 'GET',
        path: '/pics?cors',
        headers: { host: s3Host, origin: 'http://elsewhere.test' },
      });
      assert.equal(listing.status, 403);
      assert.equal(tag(listing.body, 'Code'), 'AccessDenied');
      // An OPTIONS on the platform address without an S3 sign is not S3's: the gateway's.
      const plain = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: '/pics/a.txt',
        headers: { origin: app, 'access-control-request-method': 'GET' },
      });
      assert.equal(tag(plain.body, 'Code'), undefined);
    });

    test('CorsConfiguration of AWS::S3::Bucket in serverless.yml is applied, changed and checked', async () => {
      const control = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${s3.platform.url}/v1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${s3.platform.adminToken}`,
            'content-type': 'application/json',
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, text: await res.text() };
      };
      const deploy = (bucket: Record<string, unknown>) =>
        control('POST', '/services/site/stages/dev/deployments', {
          definition: {
            service: 'site',
            stage: 'dev',
            region: 'us-east-1',
            provider: {
              name: 'aws',
              runtime: 'nodejs20.x',
              memorySize: 128,
              timeout: 6,
              environment: {},
            },
            package: { patterns: [], individually: false, excludeDevDependencies: true },
            functions: {},
            plugins: [],
            custom: {},
            resources: {
              Resources: {
                Uploads: {
                  Type: 'AWS::S3::Bucket',
                  Properties: { BucketName: 'site-uploads', ...bucket },
                },
              },
            },
          },
          functionArtifacts: {},
        });
      const first = await deploy({
        CorsConfiguration: {
          CorsRules: [
            {
              Id: 'browser',
              AllowedOrigins: [app],
              AllowedMethods: ['PUT', 'POST'],
              AllowedHeaders: ['*'],
              ExposedHeaders: ['ETag'],
              MaxAge: 3000,
            },
          ],
        },
      });
      assert.equal(first.status, 201, first.text);
      const got = await client.send(new GetBucketCorsCommand({ Bucket: 'site-uploads' }));
      assert.deepEqual(got.CORSRules, [
        {
          ID: 'browser',
          AllowedOrigins: [app],
          AllowedMethods: ['PUT', 'POST'],
          AllowedHeaders: ['*'],
          ExposeHeaders: ['ETag'],
          MaxAgeSeconds: 3000,
        },
      ]);
      const preflighted = await raw(s3.platform.url, {
        method: 'OPTIONS',
        path: '/site-uploads/a.txt',
        headers: {
          host: s3Host,
          origin: app,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'x-anything',
        },
      });
      assert.equal(preflighted.status, 200, preflighted.body);

      const bad = await deploy({
        CorsConfiguration: { CorsRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] },
      });
      assert.ok(bad.status >= 400 && bad.status < 500, bad.text);
      assert.match(bad.text, /CorsConfiguration\.CorsRules.*Unsupported method is PATCH/s);
      const typo = await deploy({
        CorsConfiguration: { CorsRules: [{ AllowedOrigin: ['*'], AllowedMethods: ['GET'] }] },
      });
      assert.ok(typo.status >= 400 && typo.status < 500, typo.text);
      assert.match(typo.text, /AllowedOrigin/);
      const still = await client.send(new GetBucketCorsCommand({ Bucket: 'site-uploads' }));
      assert.equal(still.CORSRules?.[0]?.ID, 'browser', 'a refused deploy changes nothing');

      // Dropped from serverless.yml: the bucket's rules go with it.
      const dropped = await deploy({});
      assert.equal(dropped.status, 201, dropped.text);
      const none = await failure(() =>
        client.send(new GetBucketCorsCommand({ Bucket: 'site-uploads' })),
      );
      assert.equal(none.name, 'NoSuchCORSConfiguration');
      const removed = await control('DELETE', '/services/site/stages/dev');
      assert.equal(removed.status, 200, removed.text);
    });
  });
