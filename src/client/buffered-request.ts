import type { IncomingHttpHeaders } from 'node:http';

export interface BufferedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP(S) request over node:http with the whole answer buffered. The CLI's JSON calls use
 * this rather than fetch: fetch's first use loads undici, tens of milliseconds on every command
 * (a no-op deploy makes one such call). Connection errors reject with the socket's error (its
 * `code` is ECONNREFUSED and the like). No keep-alive, so the CLI exits as soon as it is done.
 */
export async function bufferedRequest(
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string | Buffer;
    /** Give up (reject with a NIMBUS_CLI_TIMEOUT error) when no full answer came by then. */
    timeoutMs?: number;
  },
): Promise<BufferedAnswer> {
  const target = new URL(url);
  const { request } =
    target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: init.method,
        headers: {
          ...init.headers,
          ...(init.body !== undefined ? { 'content-length': Buffer.byteLength(init.body) } : {}),
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    if (init.timeoutMs !== undefined) {
      const timer = setTimeout(() => {
        const error = Object.assign(new Error(`${url} did not answer in ${init.timeoutMs} ms`), {
          code: 'NIMBUS_CLI_TIMEOUT',
        });
        req.destroy(error);
      }, init.timeoutMs);
      // The timer must neither keep the CLI alive nor outlive the answer.
      timer.unref();
      req.on('close', () => clearTimeout(timer));
    }
    req.end(init.body);
  });
}
