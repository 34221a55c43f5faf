/** Posting a browser form (multipart/form-data) to the platform under an S3 host name. */
import { request } from 'node:http';

export interface Posted {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** POSTs `form` to `url`, connecting to the platform whatever host name the URL carries. */
export async function postForm(platformUrl: string, url: string, form: FormData): Promise<Posted> {
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const target = new URL(url);
  const platform = new URL(platformUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: platform.hostname,
        port: platform.port,
        method: 'POST',
        path: target.pathname,
        headers: {
          host: target.host,
          'content-type': encoded.headers.get('content-type')!,
          'content-length': body.length,
        },
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
    req.end(body);
  });
}
