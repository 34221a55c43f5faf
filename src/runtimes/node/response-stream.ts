/**
 * Response streaming in the Node runtime, as Lambda's Node runtime offers it: a global
 * `awslambda` with `streamifyResponse(handler)` (the handler then gets `(event, responseStream,
 * context)`) and `HttpResponseStream.from(stream, {statusCode, headers, cookies})` (an HTTP
 * prelude for function URLs: its JSON, then 8 NUL bytes, then the body, under the content type
 * `application/vnd.awslambda.http-integration-response`). Each write goes to the platform as a
 * `chunk` frame at once, so the client gets bytes while the handler still runs.
 */
import { Writable } from 'node:stream';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export type StreamingHandler = (event: unknown, stream: ResponseStream, context: object) => unknown;

/** True for a handler wrapped by `awslambda.streamifyResponse`. */
export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  return (
    typeof handler === 'function' &&
    (handler as { [STREAMING]?: unknown })[STREAMING] === 'response'
  );
}

/** The stream a streaming handler writes to: each write becomes one chunk frame. */
export class ResponseStream extends Writable {
  #contentType = DEFAULT_CONTENT_TYPE;
  #started = false;
  readonly #send: (bytes: Buffer, contentType: string | undefined) => void;

  constructor(send: (bytes: Buffer, contentType: string | undefined) => void) {
    super({ decodeStrings: true });
    this.#send = send;
  }

  /** As Lambda's: only before the first write. */
  setContentType(contentType: string): void {
    if (this.#started) throw new Error('Content type cannot be set after the first write');
    this.#contentType = String(contentType);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error) => void): void {
    this.#emit(chunk);
    done();
  }

  override _final(done: (err?: Error) => void): void {
    // A stream ended with nothing written still tells the platform its content type.
    if (!this.#started) this.#emit(Buffer.alloc(0));
    done();
  }

  #emit(bytes: Buffer): void {
    const first = !this.#started;
    this.#started = true;
    this.#send(bytes, first ? this.#contentType : undefined);
  }
}

const installed = {
  streamifyResponse<T extends StreamingHandler>(handler: T): T {
    (handler as unknown as Record<symbol, unknown>)[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(stream: ResponseStream, prelude: Record<string, unknown> = {}): ResponseStream {
      stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
      // One write, so the prelude and its delimiter travel in one frame.
      stream.write(Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]));
      return stream;
    },
  },
};

/** Defines the global `awslambda` before user code loads, as Lambda's runtime does. */
export function installAwsLambdaGlobal(): void {
  Object.defineProperty(globalThis, 'awslambda', {
    value: installed,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
