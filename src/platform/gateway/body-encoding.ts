/**
 * How a request body travels in the event. The reference only says binary bodies are base64
 * (function URLs, HTTP API); Nimbus picks one rule for both payload versions: a body is text
 * when its media type is textual, base64 otherwise, so no byte is ever lost to UTF-8 decoding.
 *
 * Textual: `text/*`, `application/json`, `application/*+json`, `application/xml`,
 * `application/*+xml`, `application/x-www-form-urlencoded`, `application/javascript`.
 * No content type at all counts as binary.
 */
export function isTextMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type.startsWith('text/')) return true;
  if (!type.startsWith('application/')) return false;
  const sub = type.slice('application/'.length);
  return (
    sub === 'json' ||
    sub === 'xml' ||
    sub === 'x-www-form-urlencoded' ||
    sub === 'javascript' ||
    sub.endsWith('+json') ||
    sub.endsWith('+xml')
  );
}

export interface EncodedBody {
  /** Undefined when the request had no body. */
  body: string | undefined;
  isBase64Encoded: boolean;
}

/** Encodes a request body for an event, following isTextMediaType. */
export function encodeRequestBody(body: Buffer, contentType: string | undefined): EncodedBody {
  if (body.length === 0) return { body: undefined, isBase64Encoded: false };
  if (isTextMediaType(contentType)) return { body: body.toString('utf8'), isBase64Encoded: false };
  return { body: body.toString('base64'), isBase64Encoded: true };
}
