import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { NimbusError } from '../../errors/nimbus-error.js';

/** The PEM files of `--tls-cert` / `--tls-key`. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** The certificate or key cannot be used; the platform does not start on them. */
export class TlsFilesError extends NimbusError {
  constructor(code: 'NIMBUS_TLS_BAD_FILES' | 'NIMBUS_TLS_KEY_EXPOSED', message: string) {
    super(code, message);
  }
}

/**
 * Reads and checks the pair: the key file must be private to its owner (0600 or 0400, as the
 * data dir's files are: a key others can read is a key others can serve the domain with), both
 * must be PEM, and the key must belong to the certificate (node's secure context says so).
 */
export async function readTlsFiles(files: TlsFiles): Promise<TlsPair> {
  let mode: number;
  try {
    mode = (await stat(files.keyFile)).mode;
  } catch (error) {
    throw new TlsFilesError(
      'NIMBUS_TLS_BAD_FILES',
      `--tls-key ${files.keyFile}: ${(error as Error).message}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new TlsFilesError(
      'NIMBUS_TLS_KEY_EXPOSED',
      `--tls-key ${files.keyFile} is mode ${(mode & 0o777).toString(8)}: its group or others can reach it; chmod 600 it`,
    );
  }
  const read = async (flag: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new TlsFilesError(
        'NIMBUS_TLS_BAD_FILES',
        `${flag} ${file}: ${(error as Error).message}`,
      );
    }
  };
  const pair = {
    cert: await read('--tls-cert', files.certFile),
    key: await read('--tls-key', files.keyFile),
  };
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new TlsFilesError(
      'NIMBUS_TLS_BAD_FILES',
      `--tls-cert/--tls-key: not a PEM certificate and its key (${(error as Error).message})`,
    );
  }
  return pair;
}

/**
 * Calls `changed` when either file changes (a renewal by certbot or by hand), watching the
 * directories so a file replaced by rename is seen too. Bursts of events are coalesced.
 */
export function watchTlsFiles(files: TlsFiles, changed: () => void): { close(): void } {
  const names = new Map<string, Set<string>>();
  for (const file of [files.certFile, files.keyFile]) {
    const dir = dirname(file);
    const set = names.get(dir) ?? new Set();
    set.add(basename(file));
    names.set(dir, set);
  }
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const [dir, set] of names) {
    const watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name !== null && !set.has(String(name))) return;
      clearTimeout(timer);
      timer = setTimeout(changed, 200);
    });
    watchers.push(watcher);
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
