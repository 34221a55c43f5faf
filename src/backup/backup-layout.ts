import { NimbusError } from '../errors/nimbus-error.js';

/**
 * What a Nimbus backup holds (one zip file): everything a data dir needs to serve the same
 * functions again. Function logs, async records and access keys live in the database, so they
 * come along; the run root (extracted code, sockets) is rebuilt on start and is not included.
 */
export const manifestName = 'nimbus-backup.json';
export const databaseName = 'nimbus.db';
export const secretNames = ['master-key', 'admin-token'] as const;
const blobEntry = /^blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/;

export const backupFormat = 1;

export interface BackupManifest {
  format: typeof backupFormat;
  /** The Nimbus version that wrote it. */
  version: string;
  createdAt: string;
  /** Secrets not in the data dir (set through the environment): the operator keeps them. */
  notIncluded: string[];
}

/** Only these names may be restored: anything else (`../x`, absolute paths) is refused. */
export function isBackupEntry(name: string): boolean {
  return (
    name === manifestName ||
    name === databaseName ||
    (secretNames as readonly string[]).includes(name) ||
    blobEntry.test(name)
  );
}

/** The hash a blob entry is named by (its content must match it). */
export function blobHashOf(name: string): string | undefined {
  return blobEntry.test(name) ? name.slice(-64) : undefined;
}

export class BackupError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_BACKUP_INVALID', message);
  }
}
