/**
 * The two ends of an HTTP exchange that every gateway-shaped listener (routes, function URLs)
 * shares: reading one request header, and writing a GatewayResponse in one writeHead + end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayResponse } from './gateway-response.js';

/** The first value of a request header (node joins most repeats; set-cookie-like ones are arrays). */
export function requestHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Headers as a flat pair list so repeated names (several set-cookie) survive. */
export function sendGatewayResponse(res: ServerResponse, response: GatewayResponse): void {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  headers.push('content-length', String(response.body.length));
  res.writeHead(response.statusCode, headers);
  res.end(response.body);
}
