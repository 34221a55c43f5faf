import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** An incremental checksum as the `x-amz-checksum-*` headers carry it: base64 of the digest. */
export interface Checksum {
  update(data: Buffer): void;
  digest(): string;
}

/** The `x-amz-checksum-<name>` algorithms Nimbus can verify; others are stored unverified. */
export const verifiableChecksums = ['crc32', 'sha1', 'sha256'] as const;
export type ChecksumName = (typeof verifiableChecksums)[number];

export function isVerifiableChecksum(name: string): name is ChecksumName {
  return (verifiableChecksums as readonly string[]).includes(name);
}

export function createChecksum(name: ChecksumName): Checksum {
  if (name === 'crc32') {
    let value = 0;
    return {
      update: (data) => {
        value = crc32(data, value);
      },
      digest: () => {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(value >>> 0);
        return out.toString('base64');
      },
    };
  }
  const hash = createHash(name);
  return { update: (data) => hash.update(data), digest: () => hash.digest('base64') };
}
