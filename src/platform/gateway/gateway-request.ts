import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { TraceContext } from '../observe/tracing/trace-context.js';
import type { RouteMatch } from './route-table.js';

/**
 * The request as the listener hands it to the event builders: parsed just enough, nothing
 * copied that the builders do not need.
 */
export interface GatewayRequest {
  /** Upper-case method as received. */
  method: string;
  /** The route path after the base (`/users/42`), still percent-encoded, always with a leading `/`. */
  rawPath: string;
  /** The query string without `?` (`''` when none). */
  rawQuery: string;
  /** node's `req.rawHeaders`: `[name, value, name, value, ...]`, names as sent. */
  headers: string[];
  body: Buffer;
  sourceIp: string;
  requestId: string;
  timeEpochMs: number;
  /** Host the client used (`my-svc-dev.localhost:3000`, `localhost:3000`). */
  domainName: string;
  /** `HTTP/1.1` unless the listener knows better. */
  protocol?: string;
  /**
   * Overrides the stage the event reports: v1 defaults to the route's stage, v2 to `$default`
   * (Nimbus serves HTTP APIs on their default stage, so paths carry no stage prefix).
   */
  stage?: string;
  /** Defaults to ACCOUNT_ID. */
  accountId?: string;
  match: RouteMatch;
  /** requestContext.authorizer, once the route's access check granted the request. */
  authorizer?: Record<string, unknown>;
  /** v1 requestContext.identity fields the access check filled in (apiKey, accessKey, ...). */
  identity?: Record<string, string>;
  /** The gateway span's context: the function run is its child (docs/tracing.md). */
  trace?: TraceContext;
}

/** The account id events report when the platform has none to give (12 digits, as AWS). */
export const ACCOUNT_ID = NIMBUS_ACCOUNT_ID;

/** `my-svc-dev.localhost:3000` → `my-svc-dev`; the first label, as API Gateway's domainPrefix. */
export function domainPrefixOf(domainName: string): string {
  const colon = domainName.indexOf(':');
  const host = colon < 0 ? domainName : domainName.slice(0, colon);
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.slice(0, dot);
}
