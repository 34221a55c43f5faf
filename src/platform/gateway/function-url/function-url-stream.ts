import type { ServerResponse } from 'node:http';
import type { InvokeOutcome, ResponseSink } from '../../../model/invocation.js';
import type { GatewayResponse } from '../gateway-response.js';
import { functionUrlInternalError, mapFunctionUrlResponse } from './function-url-response.js';

/** The content type `awslambda.HttpResponseStream.from` gives a stream: a prelude comes first. */
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';
/** The prelude's JSON ends at 8 NUL bytes (Lambda's delimiter). */
const DELIMITER = Buffer.alloc(8);
/** A prelude larger than this is not one: the function wrote a body without `from`'s delimiter. */
const MAX_PRELUDE_BYTES = 64 * 1024;

/**
 * Writes a RESPONSE_STREAM function URL's answer as the function streams it: the status and
 * headers on the first chunk (from the HttpResponseStream prelude, or 200 with the stream's
 * content type), then each chunk as it arrives (chunked transfer encoding, no buffering). A
 * handler that does not stream gets the buffered rules; a failure after the first byte can only
 * cut the response short, as on Lambda.
 */
export class StreamedUrlResponse implements ResponseSink {
  readonly #res: ServerResponse;
  /** Adds the request id and CORS headers to whatever head is sent. */
  readonly #finishHead: (head: GatewayResponse) => GatewayResponse;
  #state: 'waiting' | 'prelude' | 'body' = 'waiting';
  #prelude: Buffer[] = [];
  #preludeBytes = 0;

  constructor(res: ServerResponse, finishHead: (head: GatewayResponse) => GatewayResponse) {
    this.#res = res;
    this.#finishHead = finishHead;
  }

  /** True once the status line went out: from then on only the body can follow. */
  get started(): boolean {
    return this.#state === 'body';
  }

  chunk(bytes: Buffer, contentType: string | undefined): void {
    // Answered already (a malformed prelude) or the client went away: a write now would only
    // raise write-after-end on the response.
    if (this.#res.writableEnded || this.#res.destroyed) return;
    if (this.#state === 'waiting') {
      if (contentType === HTTP_INTEGRATION) {
        this.#state = 'prelude';
      } else {
        this.#start({
          statusCode: 200,
          headers: [['content-type', contentType || 'application/octet-stream']],
          body: Buffer.alloc(0),
        });
      }
    }
    if (this.#state === 'prelude') {
      this.#prelude.push(bytes);
      this.#preludeBytes += bytes.length;
      this.#tryPrelude();
      return;
    }
    if (bytes.length > 0) this.#res.write(bytes);
  }

  /** The invocation is over: end the body, or answer whole if nothing was streamed. */
  finish(outcome: InvokeOutcome): void {
    if (this.#res.writableEnded || this.#res.destroyed) return;
    if (this.#state === 'body') {
      if (outcome.status === 'ok') this.#res.end();
      else this.#res.destroy();
      return;
    }
    if (this.#state === 'prelude') {
      // The stream ended inside its prelude: a malformed streamed response.
      this.#writeWhole(this.#finishHead(functionUrlInternalError()));
      return;
    }
    const mapped = mapFunctionUrlResponse(outcome);
    this.#writeWhole(this.#finishHead(mapped.response));
  }

  /** The invoke failed before any byte went out (throttled, function gone): answer it whole. */
  fail(response: GatewayResponse): void {
    if (this.#res.writableEnded || this.#res.destroyed) return;
    if (this.#state === 'body') this.#res.destroy();
    else this.#writeWhole(this.#finishHead(response));
  }

  #tryPrelude(): void {
    const all = this.#prelude.length === 1 ? this.#prelude[0]! : Buffer.concat(this.#prelude);
    this.#prelude = [all];
    const at = all.indexOf(DELIMITER);
    if (at < 0) {
      if (this.#preludeBytes > MAX_PRELUDE_BYTES) {
        this.#state = 'body';
        this.#writeWhole(this.#finishHead(functionUrlInternalError()));
      }
      return;
    }
    const head = preludeResponse(all.subarray(0, at));
    this.#prelude = [];
    if (head === undefined) {
      this.#state = 'body';
      this.#writeWhole(this.#finishHead(functionUrlInternalError()));
      return;
    }
    this.#start(head);
    const rest = all.subarray(at + DELIMITER.length);
    if (rest.length > 0) this.#res.write(rest);
  }

  #start(head: GatewayResponse): void {
    this.#state = 'body';
    const full = this.#finishHead(head);
    const headers: string[] = [];
    for (const [name, value] of full.headers) headers.push(name, value);
    this.#res.writeHead(full.statusCode, headers);
    // The status line and headers go out now, not with the first body bytes.
    this.#res.flushHeaders();
  }

  #writeWhole(response: GatewayResponse): void {
    if (this.#res.headersSent) {
      this.#res.destroy();
      return;
    }
    const headers: string[] = [];
    for (const [name, value] of response.headers) headers.push(name, value);
    headers.push('content-length', String(response.body.length));
    this.#res.writeHead(response.statusCode, headers);
    this.#res.end(response.body);
  }
}

/** `{statusCode?, headers?, cookies?}` → a head; undefined when it is not that JSON. */
function preludeResponse(json: Buffer): GatewayResponse | undefined {
  let prelude: unknown;
  try {
    prelude = JSON.parse(json.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof prelude !== 'object' || prelude === null || Array.isArray(prelude)) return undefined;
  const p = prelude as Record<string, unknown>;
  const status = p.statusCode ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    return undefined;
  }
  const headers: [string, string][] = [];
  if (typeof p.headers === 'object' && p.headers !== null) {
    for (const [name, value] of Object.entries(p.headers as Record<string, unknown>)) {
      if (value !== undefined && value !== null) headers.push([name, String(value)]);
    }
  }
  if (Array.isArray(p.cookies)) {
    for (const cookie of p.cookies) headers.push(['set-cookie', String(cookie)]);
  }
  return { statusCode: status, headers, body: Buffer.alloc(0) };
}
