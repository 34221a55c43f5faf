/**
 * The REST-XML protocol (S3 and the next services that speak it): a service module answers a
 * request with a RestXmlResponse, or throws an AwsError; this codec writes the status, headers
 * and XML document, streams byte bodies, and shapes errors into the REST-XML envelope
 * `<Error><Code/><Message/><Resource/><RequestId/></Error>`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { AwsError } from '../aws-error.js';
import { textNode, type XmlNode, xmlDocument } from './xml.js';

export interface RestXmlResponse {
  /** Default 200. */
  status?: number;
  /** Undefined values are left out. */
  headers?: Record<string, string | number | undefined>;
  /** An XML document, raw bytes, a byte stream (written as it is read), or a body that writes itself. */
  body?: XmlNode | Buffer | AsyncIterable<Buffer> | SelfWritingBody;
}

/**
 * A body that writes itself to the response and ends it (an object file sent from reused
 * buffers, with no stream in between); it rejects when it could not, and the codec cuts the
 * connection then.
 */
export interface SelfWritingBody {
  writeTo(res: ServerResponse): Promise<void>;
}

export interface RestXmlContext {
  requestId: string;
}

export type RestXmlOperation = (
  req: IncomingMessage,
  ctx: RestXmlContext,
) => Promise<RestXmlResponse>;

export interface RestXmlHandlerOptions {
  serve: RestXmlOperation;
  /** The `<Resource>` of an error: the path of the request by default. */
  resourceOf?: (req: IncomingMessage) => string;
  /** Unexpected errors, answered as 500 InternalError without their details. */
  onError?: (error: unknown) => void;
}

export function createRestXmlHandler(opts: RestXmlHandlerOptions) {
  return async function handleRestXml(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx: RestXmlContext = { requestId: newRequestId() };
    let answer: RestXmlResponse;
    try {
      answer = await opts.serve(req, ctx);
    } catch (error) {
      const aws = asAwsError(error, opts.onError);
      const resource = opts.resourceOf?.(req) ?? (req.url ?? '/').split('?')[0]!;
      // An error answered before the body was read: the rest is drained, not left to stall
      // the connection.
      if (!req.readableEnded) req.resume();
      sendRestXmlError(res, aws, ctx.requestId, resource, req.method === 'HEAD');
      return;
    }
    await sendRestXml(res, answer, ctx.requestId, req.method === 'HEAD');
  };
}

export async function sendRestXml(
  res: ServerResponse,
  answer: RestXmlResponse,
  requestId: string,
  head: boolean,
): Promise<void> {
  const headers: Record<string, string | number> = requestHeaders(requestId);
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    if (value !== undefined) headers[name] = value;
  }
  const body = answer.body;
  if (body === undefined || Buffer.isBuffer(body) || isXmlNode(body)) {
    const bytes =
      body === undefined
        ? undefined
        : Buffer.isBuffer(body)
          ? body
          : Buffer.from(xmlDocument(body), 'utf8');
    if (bytes && isXmlNode(body)) headers['content-type'] = 'application/xml';
    if (bytes && headers['content-length'] === undefined) headers['content-length'] = bytes.length;
    if (!bytes && headers['content-length'] === undefined) headers['content-length'] = 0;
    res.writeHead(answer.status ?? 200, headers);
    res.end(head ? undefined : bytes);
    return;
  }
  res.writeHead(answer.status ?? 200, headers);
  if (head) {
    res.end();
    return;
  }
  try {
    if (isSelfWriting(body)) await body.writeTo(res);
    else await pipeline(body, res);
  } catch {
    // The client went away, or the file went wrong mid-way: the headers are out, so the only
    // honest signal left is a cut connection.
    res.destroy();
  }
}

export function sendRestXmlError(
  res: ServerResponse,
  error: AwsError,
  requestId: string,
  resource: string,
  head: boolean,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(
    xmlDocument({
      name: 'Error',
      children: [
        textNode('Code', error.awsCode),
        textNode('Message', error.message),
        ...Object.entries(error.fields).map(([name, value]) => textNode(name, value)),
        textNode('Resource', resource),
        textNode('RequestId', requestId),
      ],
    }),
  );
  res.writeHead(error.status, {
    ...requestHeaders(requestId),
    'content-type': 'application/xml',
    // HEAD answers carry no body, so the SDK reads the status alone (404 -> NotFound).
    'content-length': head ? 0 : body.length,
    ...error.headers,
  });
  res.end(head ? undefined : body);
}

export function asAwsError(error: unknown, onError?: (error: unknown) => void): AwsError {
  if (error instanceof AwsError) {
    if (error.status >= 500) onError?.(error);
    return error;
  }
  onError?.(error);
  return new AwsError(500, 'InternalError', 'We encountered an internal error. Please try again.');
}

function requestHeaders(requestId: string): Record<string, string> {
  return { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
}

/** 16 upper-case hex digits, the shape of an S3 request id. */
function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

function isSelfWriting(body: unknown): body is SelfWritingBody {
  return typeof (body as Partial<SelfWritingBody>).writeTo === 'function';
}

function isXmlNode(body: unknown): body is XmlNode {
  return typeof body === 'object' && body !== null && 'name' in body && !Buffer.isBuffer(body);
}
