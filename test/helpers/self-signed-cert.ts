import { execFileSync } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';

/** A self-signed certificate for `names`, made with the openssl CLI; key mode 0600. */
export async function makeSelfSignedCert(
  dir: string,
  file: string,
  cn: string,
  names: string[],
): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${file}.crt`);
  const key = join(dir, `${file}.key`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`],
      ...[
        '-addext',
        `subjectAltName=${names.map((n) => (/^\d/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`,
      ],
    ],
    { stdio: 'ignore' },
  );
  await chmod(key, 0o600);
  return { cert, key };
}
