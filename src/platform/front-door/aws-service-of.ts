import type { IncomingMessage } from 'node:http';

/**
 * Which AWS-compatible service a request is for, if any: the service named by its SigV4
 * credential scope (Authorization header, or X-Amz-Credential of a presigned URL), or, for
 * unsigned requests, a service host name (`s3.localhost`, `<bucket>.s3.localhost`), a browser's
 * preflight for a header-signed S3 request, an SNS
 * SubscribeURL (`?Action=ConfirmSubscription&...`) or the X-Amz-Target of a service whose SDK
 * sends some calls unsigned (Cognito user pools: SignUp, InitiateAuth...) or EventBridge's. Cheap: no URL
 * parsing, no signature checking (the service verifies).
 */
export function awsServiceOf(req: IncomingMessage, rawQuery: string): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
    return scopeService(/Credential=([^,\s]+)/.exec(authorization)?.[1]);
  }
  const at = rawQuery.indexOf('X-Amz-Credential=');
  if (at >= 0) {
    const value = rawQuery.slice(at + 'X-Amz-Credential='.length).split('&')[0]!;
    return scopeService(safeDecode(value));
  }
  if (isS3Host(req.headers.host)) return 's3';
  if (req.method === 'OPTIONS' && isS3Preflight(req)) return 's3';
  // The SubscribeURL an SNS http(s) subscriber GETs, unsigned: its token is the credential.
  if (rawQuery.startsWith('Action=ConfirmSubscription&')) return 'sns';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AWSCognitoIdentityProviderService.')) {
    return 'cognito-idp';
  }
  // An unsigned EventBridge call reaches EventBridge, to be refused in its own error shape.
  if (typeof target === 'string' && target.startsWith('AWSEvents.')) return 'events';
  return undefined;
}

/**
 * A browser's preflight for an S3 request signed in its headers (the SDK in a page, path style
 * on the platform's address): S3 alone signs `x-amz-content-sha256`. A presigned URL's preflight
 * needs no such guess: its query names the credential scope.
 */
function isS3Preflight(req: IncomingMessage): boolean {
  const asked = req.headers['access-control-request-headers'];
  return typeof asked === 'string' && /(^|[\s,])x-amz-content-sha256($|[\s,])/i.test(asked);
}

/** `s3.localhost` (path style) or `<bucket>.s3.localhost` (virtual-host style), any port. */
export function isS3Host(host: string | undefined): boolean {
  const name = hostName(host);
  return name === 's3.localhost' || name.endsWith('.s3.localhost');
}

/** The bucket of a virtual-host style request, from its Host header. */
export function virtualHostBucket(host: string | undefined): string | undefined {
  const name = hostName(host);
  if (!name.endsWith('.s3.localhost')) return undefined;
  return name.slice(0, -'.s3.localhost'.length);
}

function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  const colon = host.lastIndexOf(':');
  const name = colon >= 0 && !host.endsWith(']') ? host.slice(0, colon) : host;
  return name.toLowerCase();
}

function scopeService(credential: string | undefined): string | undefined {
  return credential?.split('/')[3];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
