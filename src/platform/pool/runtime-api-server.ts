/**
 * The AWS Lambda Runtime API (2018-06-01), one server per `provided*` instance on 127.0.0.1 and
 * a random port, so any custom runtime (a shell script with curl, a Go or Rust binary built on an
 * AWS runtime library) runs unchanged. Status codes and error bodies follow Lambda's emulator.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionErrorBody, InvokeRequest } from '../../model/invocation.js';
import type { RuntimeChannel } from './instance-core.js';
import { MAX_RESPONSE_BYTES, responseTooLargeError } from './instance-errors.js';

/** What the server reports to the instance. */
export interface RuntimeApiEvents {
  onInited(): void;
  onInitError(error: FunctionErrorBody): void;
  onResult(requestId: string, payload: Buffer): void;
  onError(requestId: string, error: FunctionErrorBody, fatal: boolean): void;
}

const PREFIX = '/2018-06-01/runtime/';
const INVOCATION = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
/** Ids already answered, remembered so a second answer is 403 rather than 400. */
const REMEMBERED = 32;

export class RuntimeApiServer implements RuntimeChannel {
  events: RuntimeApiEvents | undefined;
  readonly #server: Server;
  readonly #arn: string;
  #port = 0;
  #initDone = false;
  /** A runtime's GET /next, parked until there is an invocation for it. */
  #waiting: ServerResponse | undefined;
  #queued: InvokeRequest | undefined;
  /** The invocation handed out and not yet answered. */
  #current: string | undefined;
  #answered: string[] = [];

  constructor(functionArn: string) {
    this.#arn = functionArn;
    this.#server = createServer((req, res) => this.#route(req, res));
    this.#server.keepAliveTimeout = 60_000;
  }

  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  dispatch(req: InvokeRequest): void {
    this.#current = req.requestId;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      this.#deliver(waiting, req);
    } else {
      this.#queued = req;
    }
  }

  close(): void {
    this.#waiting?.destroy();
    this.#waiting = undefined;
    this.#server.close();
    this.#server.closeAllConnections();
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}invocation/next`) {
      this.#next(res);
      return;
    }
    if (req.method === 'POST' && url === `${PREFIX}init/error`) {
      this.#initError(req, res);
      return;
    }
    const match = req.method === 'POST' ? INVOCATION.exec(url) : null;
    if (match) {
      this.#answer(
        req,
        res,
        decodeURIComponent(match[1] as string),
        match[2] as 'response' | 'error',
      );
      return;
    }
    req.resume();
    reply(res, 404, {
      errorType: 'InvalidRequest',
      errorMessage: `no route for ${req.method} ${url}`,
    });
  }

  #next(res: ServerResponse): void {
    if (!this.#initDone) {
      this.#initDone = true;
      this.events?.onInited();
    }
    if (this.#waiting) {
      reply(res, 403, {
        errorType: 'InvalidStateTransition',
        errorMessage: 'another /next request is already waiting',
      });
      return;
    }
    const queued = this.#queued;
    if (queued) {
      this.#queued = undefined;
      this.#deliver(res, queued);
      return;
    }
    this.#waiting = res;
    res.once('close', () => {
      if (this.#waiting === res) this.#waiting = undefined;
    });
  }

  #deliver(res: ServerResponse, req: InvokeRequest): void {
    const body = Buffer.from(req.payload);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      'Lambda-Runtime-Aws-Request-Id': req.requestId,
      'Lambda-Runtime-Deadline-Ms': String(req.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': this.#arn,
      'Lambda-Runtime-Trace-Id': req.traceHeader ?? traceId(),
    };
    if (req.clientContext) {
      headers['Lambda-Runtime-Client-Context'] = Buffer.from(req.clientContext, 'base64').toString(
        'utf8',
      );
    }
    res.writeHead(200, headers);
    res.end(body);
  }

  #answer(req: IncomingMessage, res: ServerResponse, id: string, kind: 'response' | 'error'): void {
    if (id !== this.#current) {
      req.resume();
      if (this.#answered.includes(id)) {
        reply(res, 403, {
          errorType: 'InvalidStateTransition',
          errorMessage: `invocation ${id} has already been answered`,
        });
      } else {
        reply(res, 400, {
          errorType: 'InvalidRequestID',
          errorMessage: `unknown request id ${id}`,
        });
      }
      return;
    }
    this.#current = undefined;
    this.#answered.push(id);
    if (this.#answered.length > REMEMBERED) this.#answered.shift();
    void readCapped(req, MAX_RESPONSE_BYTES).then(({ body, size }) => {
      if (kind === 'error') {
        reply(res, 202, { status: 'OK' });
        this.events?.onError(id, errorFromRuntime(body, req), false);
        return;
      }
      if (!body) {
        reply(res, 413, {
          errorType: 'RequestEntityTooLarge',
          errorMessage: `response of ${size} bytes exceeds the limit of ${MAX_RESPONSE_BYTES} bytes`,
        });
        this.events?.onError(id, responseTooLargeError(size), false);
        return;
      }
      reply(res, 202, { status: 'OK' });
      this.events?.onResult(id, body);
    }, dropBrokenRequest(res));
  }

  #initError(req: IncomingMessage, res: ServerResponse): void {
    if (this.#initDone) {
      req.resume();
      reply(res, 403, {
        errorType: 'InvalidStateTransition',
        errorMessage: 'init has already completed',
      });
      return;
    }
    this.#initDone = true;
    void readCapped(req, MAX_RESPONSE_BYTES).then(({ body }) => {
      reply(res, 202, { status: 'OK' });
      this.events?.onInitError(errorFromRuntime(body, req));
    }, dropBrokenRequest(res));
  }
}

/**
 * A runtime whose request body broke off mid-way (it died while posting): nothing to answer, and
 * the instance's exit is what reports the failure.
 */
function dropBrokenRequest(res: ServerResponse): () => void {
  return () => {
    res.destroy();
  };
}

function reply(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The body, or no body once it passes `limit` (then only its size is known). */
function readCapped(
  req: IncomingMessage,
  limit: number,
): Promise<{ body: Buffer | undefined; size: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () =>
      resolve({ body: size <= limit ? Buffer.concat(chunks, size) : undefined, size }),
    );
    req.on('error', () => resolve({ body: undefined, size }));
  });
}

/**
 * The runtime's error document, as the caller will see it. Lambda accepts anything: a missing
 * errorType falls back to the Lambda-Runtime-Function-Error-Type header, non-JSON becomes the
 * message.
 */
function errorFromRuntime(body: Buffer | undefined, req: IncomingMessage): FunctionErrorBody {
  const header = req.headers['lambda-runtime-function-error-type'];
  const fallbackType = (Array.isArray(header) ? header[0] : header) || 'Runtime.Unknown';
  const text = body?.toString('utf8') ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { errorType: fallbackType, errorMessage: text };
  }
  const doc = (parsed ?? {}) as Record<string, unknown>;
  const error: FunctionErrorBody = {
    errorType: typeof doc.errorType === 'string' && doc.errorType ? doc.errorType : fallbackType,
    errorMessage: typeof doc.errorMessage === 'string' ? doc.errorMessage : '',
  };
  if (Array.isArray(doc.stackTrace)) error.stackTrace = doc.stackTrace.map(String);
  return error;
}

/** An X-Ray shaped id (`Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`). */
function traceId(): string {
  const bytes = randomBytes(20).toString('hex');
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${bytes.slice(0, 24)};Parent=${bytes.slice(24, 40)};Sampled=0`;
}
