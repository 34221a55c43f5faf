/**
 * The AWS query protocol (SQS and SNS for SDK v2 and older boto3): `Action=<Op>&...` as a
 * form-encoded POST body or a GET query string, answered with
 * `<OpResponse><OpResult>...</OpResult><ResponseMetadata><RequestId/></ResponseMetadata></OpResponse>`;
 * errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 * Parameters arrive flattened (`Attribute.1.Name`); `unflattenQuery` turns them into a tree
 * whose numbered members are lists, for the service to shape into its input.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AccessKeyScope, isRestricted } from '../../auth/access-key-store.js';
import type { CallerScopes } from '../../auth/caller-scopes.js';
import { readBody } from '../../http/read-body.js';
import { AwsError } from '../aws-error.js';
import { asAwsError } from './rest-xml.js';
import { textNode, type XmlNode, xmlDocument } from './xml.js';

export interface AwsQueryCall {
  action: string;
  params: URLSearchParams;
  /** The raw body, which SigV4 verification hashes. */
  body: Buffer;
  req: IncomingMessage;
  requestId: string;
  /** The signer's scope when it is restricted (session credentials, scoped keys). */
  scope?: AccessKeyScope;
}

export interface AwsQueryHandlerOptions {
  /** The XML namespace of responses, `http://queue.amazonaws.com/doc/2012-11-05/`. */
  namespace: string;
  maxBodyBytes: number;
  /**
   * Checks the caller (SigV4 over the whole body) before anything else is read; throws, or
   * answers the principal (the access key id).
   */
  authenticate: (req: IncomingMessage, body: Buffer) => Promise<string>;
  /** The shared scope lookup: `serve` sees a restricted caller's scope in `call.scope`. */
  scopeOf?: CallerScopes;
  /** The children of `<ActionResult>` (none for actions that answer nothing). */
  serve: (call: AwsQueryCall) => Promise<(XmlNode | undefined)[]>;
  /** The query code and fault of an error, where they differ from its awsCode. */
  queryError?: (error: AwsError) => { code: string; fault: 'Sender' | 'Receiver' };
  onError?: (error: unknown) => void;
}

export function createAwsQueryHandler(opts: AwsQueryHandlerOptions) {
  return async function handleAwsQuery(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let action = '';
    let children: (XmlNode | undefined)[];
    try {
      const body = await readQueryBody(req, opts.maxBodyBytes);
      const principal = await opts.authenticate(req, body);
      const found = opts.scopeOf?.(principal);
      const scope = found instanceof Promise ? await found : found;
      const params = queryParams(req, body);
      action = params.get('Action') ?? '';
      if (!/^[A-Za-z]{1,64}$/.test(action)) {
        throw new AwsError(400, 'MissingAction', 'The request must contain the parameter Action.');
      }
      children = await opts.serve({
        action,
        params,
        body,
        req,
        requestId,
        ...(isRestricted(scope) ? { scope } : {}),
      });
    } catch (error) {
      if (!req.readableEnded) req.resume();
      sendAwsQueryError(res, asAwsError(error, opts.onError), requestId, opts);
      return;
    }
    const bytes = Buffer.from(
      xmlDocument({
        name: `${action}Response`,
        attrs: { xmlns: opts.namespace },
        children: [
          children.length > 0 ? { name: `${action}Result`, children } : undefined,
          { name: 'ResponseMetadata', children: [textNode('RequestId', requestId)] },
        ],
      }),
    );
    res.writeHead(200, {
      'content-type': 'text/xml',
      'content-length': bytes.length,
      'x-amzn-requestid': requestId,
    });
    res.end(bytes);
  };
}

export function sendAwsQueryError(
  res: ServerResponse,
  error: AwsError,
  requestId: string,
  opts: Pick<AwsQueryHandlerOptions, 'namespace' | 'queryError'>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const query = opts.queryError?.(error) ?? {
    code: error.awsCode,
    fault: error.status >= 500 ? 'Receiver' : 'Sender',
  };
  const bytes = Buffer.from(
    xmlDocument({
      name: 'ErrorResponse',
      attrs: { xmlns: opts.namespace },
      children: [
        {
          name: 'Error',
          children: [
            textNode('Type', query.fault),
            textNode('Code', query.code),
            textNode('Message', error.message),
            { name: 'Detail' },
          ],
        },
        textNode('RequestId', requestId),
      ],
    }),
  );
  res.writeHead(error.status, {
    'content-type': 'text/xml',
    'content-length': bytes.length,
    'x-amzn-requestid': requestId,
    ...error.headers,
  });
  res.end(bytes);
}

export type QueryTree = { [name: string]: string | QueryTree | QueryTree[] | string[] };

/**
 * `Attribute.1.Name=a&Attribute.1.Value=b&QueueName=q` →
 * `{Attribute: [{Name: 'a', Value: 'b'}], QueueName: 'q'}`. Numbered members become lists in
 * their numbers' order; a name used both as a value and a parent keeps the parent.
 */
export function unflattenQuery(params: URLSearchParams): QueryTree {
  const root: Record<string, unknown> = {};
  for (const [key, value] of params) {
    const path = key.split('.');
    let node = root;
    for (let i = 0; i < path.length - 1; i += 1) {
      const next = node[path[i]!];
      const child = typeof next === 'object' && next !== null ? next : {};
      node[path[i]!] = child;
      node = child as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (typeof node[last] !== 'object') node[last] = value;
  }
  return listify(root) as QueryTree;
}

function listify(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node as Record<string, unknown>);
  if (entries.length > 0 && entries.every(([k]) => /^[1-9]\d{0,3}$/.test(k))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => listify(v));
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, listify(v)]));
}

async function readQueryBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await readBody(req, limit);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'NIMBUS_HTTP_TOO_LARGE') {
      throw new AwsError(413, 'RequestEntityTooLarge', `The request body exceeds ${limit} bytes.`);
    }
    throw error;
  }
}

function queryParams(req: IncomingMessage, body: Buffer): URLSearchParams {
  const question = (req.url ?? '').indexOf('?');
  const fromUrl = new URLSearchParams(question >= 0 ? (req.url ?? '').slice(question + 1) : '');
  const params = new URLSearchParams(body.toString('utf8'));
  for (const [k, v] of fromUrl) if (!params.has(k)) params.append(k, v);
  return params;
}
