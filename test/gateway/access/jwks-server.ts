/** An OpenID issuer for tests: discovery, a JWKS it can rotate, and a count of key fetches. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface TestIssuer {
  url: string;
  jwksFetches: number;
  /** Keys published: rsa1 and ec1 at first; `publish` adds more. */
  publish(kid: string, key: JWK): void;
  rsa: CryptoKey;
  rsaPublicPem: string;
  ec: CryptoKey;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<TestIssuer> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256', use: 'sig' },
  ];
  const { createPublicKey } = await import('node:crypto');
  const rsaPublicPem = createPublicKey({ key: keys[0] as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  let url = '';
  const issuer: TestIssuer = {
    url: '',
    jwksFetches: 0,
    publish: (kid, key) => keys.push({ ...key, kid }),
    rsa: rsa.privateKey,
    rsaPublicPem,
    ec: ec.privateKey,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/keys` }));
    } else if (req.url === '/keys') {
      issuer.jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  return issuer;
}

export function token(
  key: CryptoKey | Uint8Array,
  opts: {
    alg: string;
    kid: string;
    iss: string;
    aud?: string;
    nowMs: number;
    expInS?: number;
    claims?: Record<string, unknown>;
  },
): Promise<string> {
  const now = Math.floor(opts.nowMs / 1000);
  const jwt = new SignJWT({ sub: 'user-42', ...opts.claims })
    .setProtectedHeader({ alg: opts.alg, kid: opts.kid })
    .setIssuer(opts.iss)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expInS ?? 300));
  if (opts.aud !== undefined) jwt.setAudience(opts.aud);
  return jwt.sign(key);
}
