/**
 * `authorizer: aws_iam`: the request must be SigV4-signed for `execute-api` with a Nimbus access
 * key (the verifier the Invoke API uses, scoped to another service), and the key's scope must
 * reach the route's function. The admin token is not an IAM identity and is refused here.
 */
import type { IncomingMessage } from 'node:http';
import type { AccessKeyScope } from '../../auth/access-key-store.js';
import type { RequestVerifier } from '../../auth/request-verifier.js';

export type IamOutcome =
  | { ok: true; accessKeyId: string; scope: AccessKeyScope | undefined }
  | { ok: false; type: string; message: string };

export async function verifyIam(
  req: IncomingMessage,
  body: Buffer,
  deps: { verify: RequestVerifier; scopeOf(id: string): Promise<AccessKeyScope | undefined> },
): Promise<IamOutcome> {
  if (req.headers.authorization?.startsWith('Bearer ')) {
    return {
      ok: false,
      type: 'IncompleteSignatureException',
      message: 'Authorization header must use AWS4-HMAC-SHA256 (Signature Version 4).',
    };
  }
  const outcome = await deps.verify(req, body);
  if (!outcome.ok) return outcome;
  if (outcome.principal === 'admin') {
    return { ok: false, type: 'UnrecognizedClientException', message: 'invalid credentials' };
  }
  return { ok: true, accessKeyId: outcome.principal, scope: await deps.scopeOf(outcome.principal) };
}
