import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type AlbTarget, albTargetOf } from '../gateway/alb/alb-target.js';
import {
  type FunctionUrlTarget,
  functionUrlTargetOf,
} from '../gateway/function-url/function-url-id.js';
import { awsServiceOf } from './aws-service-of.js';

/** One area of the platform port: it gets the request with the path already split off. */
export type AreaHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  rawQuery: string,
) => Promise<void>;

export interface FrontDoorAreas {
  health: AreaHandler;
  /** GET /metrics, the Prometheus scrape (docs/metrics.md). */
  metrics?: AreaHandler;
  /** The control API under /v1. */
  control: AreaHandler;
  /** The Lambda Invoke API, under its path prefix. */
  lambda: { prefix: string; handle: AreaHandler };
  /**
   * Function URLs, by host (`<id>.lambda-url.localhost`) or path (`/_lambda-url/<id>/`): ahead of
   * the AWS services, since an AWS_IAM URL request carries a SigV4 scope for `lambda` too.
   */
  functionUrls?: (
    req: IncomingMessage,
    res: ServerResponse,
    target: FunctionUrlTarget,
    rawQuery: string,
  ) => Promise<void>;
  /** ALB listeners, by host (`<listener>.alb.localhost`) or path (`/_alb/<listener>/`). */
  albs?: (
    req: IncomingMessage,
    res: ServerResponse,
    target: AlbTarget,
    rawQuery: string,
  ) => Promise<void>;
  /** The web console under /console (docs/console.md). */
  console?: AreaHandler;
  /** Everything else: API Gateway-shaped routes of deployed services. */
  gateway: AreaHandler;
  /**
   * AWS-compatible services by SigV4 service name (`s3`); a request is theirs when its
   * credential scope or host name says so (aws-service-of.ts), whatever its path.
   */
  aws?: Record<string, AreaHandler>;
  /** Public documents at paths of their own (a user pool's `/<poolId>/.well-known/jwks.json`). */
  wellKnown?: { matches: (path: string) => boolean; handle: AreaHandler };
  /**
   * `--tls-redirect` (https-redirect.ts): asked before the gateway surface (function URLs, ALB
   * listeners, the console, public documents, routes) answers; true when it sent the redirect.
   */
  toHttps?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * The one dispatcher on the platform port: it decides which area answers a request. AWS
 * protocol services recognised by their SigV4 scope or X-Amz-Target join here, never on a port
 * of their own.
 */
export function createFrontDoor(areas: FrontDoorAreas): AreaHandler {
  const toHttps = areas.toHttps;
  const redirected = toHttps
    ? (req: IncomingMessage, res: ServerResponse) => toHttps(req, res)
    : () => false;
  return async (req, res, path, rawQuery) => {
    const url = areas.functionUrls && functionUrlTargetOf(req.headers.host, path);
    if (url) {
      // An AWS_IAM function URL is signed for `lambda`: an SDK caller, kept on plain HTTP.
      if (awsServiceOf(req, rawQuery) === undefined && redirected(req, res)) return;
      return areas.functionUrls!(req, res, url, rawQuery);
    }
    const alb = areas.albs && albTargetOf(req.headers.host, path);
    if (alb) return redirected(req, res) ? undefined : areas.albs!(req, res, alb, rawQuery);
    const service = areas.aws && awsServiceOf(req, rawQuery);
    const aws = service === undefined ? undefined : areas.aws?.[service];
    if (aws) return aws(req, res, path, rawQuery);
    if (path === '/health') return areas.health(req, res, path, rawQuery);
    if (path === '/metrics' && areas.metrics) return areas.metrics(req, res, path, rawQuery);
    if (path.startsWith('/v1/')) return areas.control(req, res, path, rawQuery);
    if (path.startsWith(areas.lambda.prefix)) return areas.lambda.handle(req, res, path, rawQuery);
    if (redirected(req, res)) return;
    if (areas.console && (path === '/console' || path.startsWith('/console/')))
      return areas.console(req, res, path, rawQuery);
    if (areas.wellKnown?.matches(path)) return areas.wellKnown.handle(req, res, path, rawQuery);
    return areas.gateway(req, res, path, rawQuery);
  };
}

/** Where upgrade requests go: WebSocket APIs (docs/websockets.md); nothing else upgrades. */
export interface UpgradeAreas {
  websockets?: (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
    rawQuery: string,
  ) => Promise<void>;
}

/** The front door's upgrade side: the same port, a WebSocket API or a refusal. */
export function createUpgradeDoor(
  areas: UpgradeAreas,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> {
  return async (req, socket, head) => {
    const { path, rawQuery } = splitTarget(req.url);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade !== 'websocket' || !areas.websockets) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    return areas.websockets(req, socket, head, path, rawQuery);
  };
}

/** Splits `req.url` into path and raw query without URL parsing (the hot path). */
export function splitTarget(raw: string | undefined): { path: string; rawQuery: string } {
  const target = raw ?? '/';
  const q = target.indexOf('?');
  return q < 0
    ? { path: target, rawQuery: '' }
    : { path: target.slice(0, q), rawQuery: target.slice(q + 1) };
}
