/**
 * Bucket CORS in a real headless Chromium: a page on another origin uploads with `fetch` to a
 * presigned PUT URL on the platform's address (the browser preflights it, since `image/png` is
 * not a simple content type) and posts presigned forms to `s3.localhost` and to the platform's
 * address, reading the answers'
 * exposed headers; a bucket without rules is refused by the browser itself. The store paths are
 * proven on both dialects in s3-cors.test.ts; this proves what a browser does with the answers.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Page } from 'playwright-core';
import { type Browser, launchChromium } from '../../helpers/chromium.js';
import { failure, type S3Platform, startS3Platform } from './s3-platform.js';

describe('bucket CORS in headless Chromium', () => {
  let s3: S3Platform;
  let client: S3Client;
  let site: Server;
  let origin: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    s3 = await startS3Platform();
    client = s3.client();
    // The page's own origin: another port, so every request to the platform is cross-origin.
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>uploader</title><p>uploader</p>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    for (const Bucket of ['browser-uploads', 'no-cors'])
      await client.send(new CreateBucketCommand({ Bucket }));
    await client.send(
      new PutBucketCorsCommand({
        Bucket: 'browser-uploads',
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [origin],
              AllowedMethods: ['PUT', 'POST', 'GET'],
              AllowedHeaders: ['content-type'],
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 60,
            },
          ],
        },
      }),
    );
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(`${origin}/`);
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    client?.destroy();
    await s3?.close();
  });

  /** fetch in the page: the answer's status and ETag, or the browser's refusal. */
  const put = (url: string, body: string, extra: Record<string, string> = {}) =>
    page.evaluate(
      async ({ url, body, extra }) => {
        try {
          const res = await fetch(url, {
            method: 'PUT',
            headers: { 'content-type': 'image/png', ...extra },
            body,
          });
          return { status: res.status, etag: res.headers.get('etag') };
        } catch (error) {
          return { refused: String(error) };
        }
      },
      { url, body, extra },
    );

  test('a page PUTs to a presigned URL after a preflight, and reads the exposed ETag', async () => {
    const url = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: 'browser-uploads', Key: 'pics/cat.png' }),
      { expiresIn: 300 },
    );
    const answer = await put(url, 'not really a png');
    assert.equal(answer.status, 200, JSON.stringify(answer));
    assert.match(answer.etag ?? '', /^"[0-9a-f]{32}"$/);
    const head = await client.send(
      new HeadObjectCommand({ Bucket: 'browser-uploads', Key: 'pics/cat.png' }),
    );
    assert.equal(head.ContentType, 'image/png');
    assert.equal(head.ETag, answer.etag);
  });

  for (const where of ['s3.localhost', 'the platform address'] as const)
    test(`a page posts a presigned form to ${where} and reads the answer`, async () => {
      const port = new URL(s3.platform.url).port;
      const signer =
        where === 's3.localhost' ? s3.client({ endpoint: `http://s3.localhost:${port}` }) : client;
      const { url, fields } = await createPresignedPost(signer, {
        Bucket: 'browser-uploads',
        Key: `forms/${where === 's3.localhost' ? 'host' : 'address'}/\${filename}`,
        Fields: { success_action_status: '201' },
        Expires: 300,
      });
      const answer = await page.evaluate(
        async ({ url, fields }) => {
          const form = new FormData();
          for (const [k, v] of Object.entries(fields)) form.append(k, v);
          form.append('file', new Blob(['form bytes']), 'note.txt');
          try {
            const res = await fetch(url, { method: 'POST', body: form });
            return { status: res.status, body: await res.text() };
          } catch (error) {
            return { refused: String(error) };
          }
        },
        { url, fields },
      );
      if (signer !== client) signer.destroy();
      const key = `forms/${where === 's3.localhost' ? 'host' : 'address'}/note.txt`;
      assert.equal(answer.status, 201, JSON.stringify(answer));
      assert.match(answer.body ?? '', new RegExp(`<Key>${key}</Key>`));
      const got = await client.send(new GetObjectCommand({ Bucket: 'browser-uploads', Key: key }));
      assert.equal(await got.Body!.transformToString(), 'form bytes');
    });

  test('without a rule for the page, the browser refuses before anything is stored', async () => {
    const url = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: 'no-cors', Key: 'blocked.png' }),
      { expiresIn: 300 },
    );
    const answer = await put(url, 'blocked');
    assert.match(answer.refused ?? '', /Failed to fetch/, JSON.stringify(answer));
    const missing = await failure(() =>
      client.send(new HeadObjectCommand({ Bucket: 'no-cors', Key: 'blocked.png' })),
    );
    assert.equal(missing.$metadata.httpStatusCode, 404);

    // The preflight decides: a header the rule does not allow stops the PUT in the browser,
    // though the URL's signature would have been good.
    const signed = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: 'browser-uploads', Key: 'pics/owner.png' }),
      { expiresIn: 300 },
    );
    const header = await put(signed, 'blocked', { 'x-amz-meta-owner': 'ana' });
    assert.match(header.refused ?? '', /Failed to fetch/, JSON.stringify(header));
    const absent = await failure(() =>
      client.send(new HeadObjectCommand({ Bucket: 'browser-uploads', Key: 'pics/owner.png' })),
    );
    assert.equal(absent.$metadata.httpStatusCode, 404);
  });
});
