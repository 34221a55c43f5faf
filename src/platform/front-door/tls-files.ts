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

/** A certificate of its own for one host name, served by SNI (`--tls-domain host=cert,key`). */
export interface TlsDomainFiles extends TlsFiles {
  /** `api.example.test`, or `*.example.test` for any one label in front of it. */
  host: string;
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
export async function readTlsFiles(
  files: TlsFiles,
  flags: { cert: string; key: string } = { cert: '--tls-cert', key: '--tls-key' },
): Promise<TlsPair> {
  let mode: number;
  try {
    mode = (await stat(files.keyFile)).mode;
  } catch (error) {
    throw new TlsFilesError(
      'NIMBUS_TLS_BAD_FILES',
      `${flags.key} ${files.keyFile}: ${(error as Error).message}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new TlsFilesError(
      'NIMBUS_TLS_KEY_EXPOSED',
      `${flags.key} ${files.keyFile} is mode ${(mode & 0o777).toString(8)}: its group or others can reach it; chmod 600 it`,
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
    cert: await read(flags.cert, files.certFile),
    key: await read(flags.key, files.keyFile),
  };
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new TlsFilesError(
      'NIMBUS_TLS_BAD_FILES',
      `${flags.cert}/${flags.key}: not a PEM certificate and its key (${(error as Error).message})`,
    );
  }
  return pair;
}

/** The default pair and each `--tls-domain` pair, checked the same way (the flags name which). */
export async function readTlsSet(
  files: TlsFiles,
  domains: readonly TlsDomainFiles[],
): Promise<{ pair: TlsPair; domains: Map<string, TlsPair> }> {
  const pair = await readTlsFiles(files);
  const byHost = new Map<string, TlsPair>();
  for (const domain of domains) {
    const flag = `--tls-domain ${domain.host}`;
    byHost.set(
      domain.host.toLowerCase(),
      await readTlsFiles(domain, { cert: `${flag} (cert)`, key: `${flag} (key)` }),
    );
  }
  return { pair, domains: byHost };
}

/**
 * Calls `changed` when any of the files changes (a renewal by certbot or by hand), watching the
 * directories so a file replaced by rename is seen too. Bursts of events are coalesced.
 */
export function watchTlsFiles(files: readonly string[], changed: () => void): { close(): void } {
  const names = new Map<string, Set<string>>();
  for (const file of files) {
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
