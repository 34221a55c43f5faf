import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../model/clock.js';
import { bearerMatches } from '../control/admin-token.js';
import type { AccessKeyStore } from './access-key-store.js';
import {
  type PostPolicyFields,
  type SignatureChain,
  type SigV4ErrorType,
  type SigV4Failure,
  verifyPostPolicySignature,
  verifySigV4,
} from './sigv4.js';

export type AuthOutcome =
  /** `principal` is the access key id, or `admin` for the admin token. */
  | { ok: true; principal: string; region?: string }
  | { ok: false; type: SigV4ErrorType; message: string };

/** Decides whether a request (with its whole body, which SigV4 hashes) may go on. */
export type RequestVerifier = (req: IncomingMessage, body: Buffer) => Promise<AuthOutcome>;

export interface RequestVerifierDeps {
  keys: Pick<AccessKeyStore, 'findSecret' | 'markUsed'>;
  adminToken: string;
  clock: Clock;
  /** The credential scope's service; `lambda` for the Invoke API. */
  service?: string;
  /** Failures to record last-used times; they never fail the request. */
  onError?: (error: unknown) => void;
}

/** How stale a key's last-used time may get: one write a minute per key, not one per request. */
const lastUsedEveryMs = 60_000;

/**
 * AWS SigV4 with an access key, or `Authorization: Bearer <admin token>` (what the Nimbus CLI
 * and operators' scripts hold).
 */
export function createRequestVerifier(deps: RequestVerifierDeps): RequestVerifier {
  const service = deps.service ?? 'lambda';
  const noteUse = useMarker(deps);

  return async function verifyRequest(req, body) {
    const authorization = req.headers.authorization;
    if (authorization?.startsWith('Bearer ')) {
      if (bearerMatches(authorization, deps.adminToken)) return { ok: true, principal: 'admin' };
      return {
        ok: false,
        type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      };
    }
    const now = deps.clock.now();
    const result = await verifySigV4(
      { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headersDistinct, body },
      { service, nowMs: now, secretOf: (id, token) => deps.keys.findSecret(id, token) },
    );
    if (!result.ok) return result;
    noteUse(result.accessKeyId, now);
    return { ok: true, principal: result.accessKeyId, region: result.region };
  };
}

/** Records last-used times, throttled per key. */
function useMarker(deps: Pick<RequestVerifierDeps, 'keys' | 'onError'>) {
  const markedAt = new Map<string, number>();
  return (id: string, now: number) => {
    if (now - (markedAt.get(id) ?? Number.NEGATIVE_INFINITY) < lastUsedEveryMs) return;
    markedAt.set(id, now);
    deps.keys.markUsed(id, now).catch((error) => deps.onError?.(error));
  };
}

export type StreamingAuthOutcome =
  | { ok: true; principal: string; region: string; chain: SignatureChain }
  | SigV4Failure;

/** Decides from the headers alone whether a request may go on; its body is checked as it streams. */
export type StreamingRequestVerifier = (req: IncomingMessage) => Promise<StreamingAuthOutcome>;

/**
 * The same SigV4 verification for services whose bodies must stream (S3): the signature covers
 * the declared `x-amz-content-sha256`, and `chain` lets the body be checked against it
 * (src/platform/aws/sigv4/verified-payload.ts). Header and presigned-query forms; access keys
 * only, as S3 clients know no bearer tokens.
 */
export function createStreamingRequestVerifier(
  deps: Omit<RequestVerifierDeps, 'adminToken'> & { service: string },
): StreamingRequestVerifier {
  const noteUse = useMarker(deps);
  return async function verifyStreamingRequest(req) {
    const now = deps.clock.now();
    const result = await verifySigV4(
      { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headersDistinct },
      {
        service: deps.service,
        nowMs: now,
        secretOf: (id, token) => deps.keys.findSecret(id, token),
      },
    );
    if (!result.ok) return result;
    noteUse(result.accessKeyId, now);
    return { ok: true, principal: result.accessKeyId, region: result.region, chain: result.chain };
  };
}

/** Checks a browser form upload's policy signature (S3 presigned POST) against the access keys. */
export type PostPolicyVerifier = (
  fields: PostPolicyFields,
) => Promise<{ ok: true; accessKeyId: string; region: string } | SigV4Failure>;

export function createPostPolicyVerifier(
  deps: Omit<RequestVerifierDeps, 'adminToken'> & { service: string },
): PostPolicyVerifier {
  const noteUse = useMarker(deps);
  return async (fields) => {
    const result = await verifyPostPolicySignature(fields, {
      service: deps.service,
      secretOf: (id, token) => deps.keys.findSecret(id, token),
    });
    if (result.ok) noteUse(result.accessKeyId, deps.clock.now());
    return result;
  };
}
