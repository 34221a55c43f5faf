/**
 * The aws-chunked decoder and the S3 form of the SigV4 verifier against the worked example of
 * the S3 API reference ("Signature Calculations for the Authorization Header: Transferring
 * Payload in Multiple Chunks", Example: PUT Object): its seed and chunk signatures were computed
 * by AWS, not by this code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type SigV4Request, verifySigV4 } from '../../../src/platform/auth/sigv4.js';
import { AwsError } from '../../../src/platform/aws/aws-error.js';
import { decodeAwsChunked } from '../../../src/platform/aws/sigv4/aws-chunked.js';

const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const keyId = 'AKIAIOSFODNN7EXAMPLE';
const at = Date.UTC(2013, 4, 24);
const signatures = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];
const request: SigV4Request = {
  method: 'PUT',
  target: '/examplebucket/chunkObject.txt',
  headers: {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      `AWS4-HMAC-SHA256 Credential=${keyId}/20130524/us-east-1/s3/aws4_request,` +
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;' +
      'x-amz-decoded-content-length;x-amz-storage-class,' +
      'Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  },
};

function body(sigs = signatures): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    Buffer.alloc(65536, 'a'),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    Buffer.alloc(1024, 'a'),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n\r\n`),
  ]);
}

/** The body cut into small, unaligned pieces, as a socket may deliver it. */
async function* pieces(data: Buffer, size = 777): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function decode(data: Buffer) {
  const result = await verifySigV4(request, {
    service: 's3',
    nowMs: at,
    secretOf: async (id) => (id === keyId ? secret : undefined),
  });
  assert.ok(result.ok, JSON.stringify(result));
  const out: Buffer[] = [];
  for await (const piece of decodeAwsChunked(pieces(data), { chain: result.chain }))
    out.push(piece);
  return Buffer.concat(out);
}

describe('aws-chunked with chunk signatures (the S3 API reference example)', () => {
  test('the seed signature verifies and the 66,560 bytes come out with every chunk checked', async () => {
    assert.equal(body().length, 66824);
    const data = await decode(body());
    assert.equal(data.length, 66560);
    assert.ok(data.equals(Buffer.alloc(66560, 'a')));
  });

  test('a wrong chunk signature, a changed byte or a cut body fail', async () => {
    const wrong = [...signatures];
    wrong[1] = wrong[1]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await assert.rejects(
      decode(body(wrong)),
      (e: AwsError) => e.awsCode === 'SignatureDoesNotMatch',
    );
    const changed = body();
    changed[200] = 'b'.charCodeAt(0);
    await assert.rejects(decode(changed), (e: AwsError) => e.awsCode === 'SignatureDoesNotMatch');
    await assert.rejects(
      decode(body().subarray(0, 70000 - 5000)),
      (e: AwsError) => e.awsCode === 'IncompleteBody',
    );
    // The final zero-length chunk carries a signature too: dropping it is not a valid body.
    const truncated = body().subarray(0, body().length - 86);
    await assert.rejects(decode(truncated), (e: AwsError) => e.awsCode === 'IncompleteBody');
  });

  test('unsigned chunks with a trailer: data and trailers come out', async () => {
    const data = Buffer.concat([
      Buffer.from('3\r\nabc\r\n2\r\nde\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n'),
    ]);
    let trailers = new Map<string, string>();
    const out: Buffer[] = [];
    for await (const piece of decodeAwsChunked(pieces(data, 3), {
      onTrailers: (t) => {
        trailers = t;
      },
    })) {
      out.push(piece);
    }
    assert.equal(Buffer.concat(out).toString(), 'abcde');
    assert.equal(trailers.get('x-amz-checksum-crc32'), 'NhCmhg==');
    await assert.rejects(async () => {
      for await (const _ of decodeAwsChunked(pieces(Buffer.from('zz\r\nabc\r\n')))) {
      }
    }, AwsError);
  });
});
