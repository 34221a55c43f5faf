import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { extractZip, lambdaZipLimits } from '../packaging/zip-safety.js';
import { CONFIG_FILE_NAMES } from '../service/find-config.js';
import { CliError } from './cli-error.js';

/** Archives and downloads are capped as a function's code is: a service template is no bigger. */
const maxArchiveBytes = lambdaZipLimits.maxZippedBytes;
const maxUnpackedBytes = lambdaZipLimits.maxUnzippedBytes;
/** Never copied from a local template: history, installed packages, build output. */
const skipped = new Set(['.git', 'node_modules', '.serverless']);

type ArchiveKind = 'zip' | 'tar.gz';

function archiveKind(name: string): ArchiveKind | undefined {
  const lower = name.toLowerCase().replace(/[?#].*$/, '');
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  return undefined;
}

function isRemote(source: string): boolean {
  return /^(https?|git|ssh|file):\/\//.test(source) || /^[\w.-]+@[\w.-]+:/.test(source);
}

/** The directory name a source suggests: `repo` for `.../repo.git`, `svc` for `svc.tar.gz`. */
export function sourceBaseName(source: string): string {
  const last =
    source
      .replace(/[?#].*$/, '')
      .replace(/\/+$/, '')
      .split(/[/:\\]/)
      .at(-1) ?? '';
  return last.replace(/\.(zip|tgz|tar\.gz|git)$/i, '');
}

/**
 * Puts the service found at `source` (a local folder, a .zip / .tar.gz file or URL, or a git URL
 * when `git` is installed) into `target`, which must not exist yet. An archive holding one
 * top-level folder (as GitHub's downloads do) is unwrapped. Refused when no serverless config
 * is found at its root.
 */
export async function materializeService(source: string, cwd: string, target: string) {
  const work = await mkdtemp(join(tmpdir(), 'nimbus-install-'));
  try {
    const root = await unpack(source, cwd, join(work, 'src'));
    const serviceRoot = await unwrapSingleFolder(root);
    if (!(await hasConfig(serviceRoot))) {
      throw new CliError(`No ${CONFIG_FILE_NAMES.join(', ')} found in ${source}`);
    }
    await mkdir(dirname(target), { recursive: true });
    await cp(serviceRoot, target, {
      recursive: true,
      errorOnExist: true,
      force: false,
      filter: (from) => !skipped.has(from.split(sep).at(-1) ?? ''),
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function unpack(source: string, cwd: string, into: string): Promise<string> {
  const kind = archiveKind(source);
  if (source.startsWith('file://') && kind) return unpack(fileURLToPath(source), cwd, into);
  if (isRemote(source)) {
    if (kind) {
      await extractArchive(await download(source), kind, into);
      return into;
    }
    await gitClone(source, into);
    return into;
  }
  const path = isAbsolute(source) ? source : resolve(cwd, source);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${source} does not exist`);
  }
  if (info.isDirectory()) return path;
  if (!kind) throw new CliError(`${source} is neither a folder nor a .zip / .tar.gz archive`);
  if (info.size > maxArchiveBytes) throw new CliError(`${source} is larger than 50 MiB`);
  await extractArchive(await readFile(path), kind, into);
  return into;
}

async function download(url: string): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    throw new CliError(`Cannot download ${url}: ${(error as Error).message}`);
  }
  if (!res.ok || !res.body) throw new CliError(`Cannot download ${url}: HTTP ${res.status}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxArchiveBytes) throw new CliError(`${url} is larger than 50 MiB`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

async function gitClone(url: string, into: string): Promise<void> {
  const run = promisify(execFile);
  try {
    await run('git', ['--version']);
  } catch {
    throw new CliError(`Installing from ${url} needs git, which is not installed here`);
  }
  try {
    // `--` so a URL can never be read as an option.
    await run('git', ['clone', '--depth', '1', '--quiet', '--', url, into], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
  } catch (error) {
    const detail = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new CliError(`git clone ${url} failed: ${detail}`);
  }
}

async function extractArchive(bytes: Buffer, kind: ArchiveKind, into: string): Promise<void> {
  if (kind === 'zip') {
    try {
      await extractZip(bytes, into, lambdaZipLimits);
    } catch (error) {
      throw new CliError(`Cannot unpack the archive: ${(error as Error).message}`);
    }
    return;
  }
  await extractTarGz(bytes, into);
}

/**
 * Regular files and folders only; an absolute name, a `..` segment, a link or more than the
 * unpacked cap refuses the whole archive (nothing is left behind: `into` is a temp dir).
 */
async function extractTarGz(bytes: Buffer, into: string): Promise<void> {
  const root = resolve(into);
  await mkdir(root, { recursive: true });
  const extract = tarExtract();
  let total = 0;
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type, mode } = entry.header;
      const clean = name.replace(/\\/g, '/').replace(/^\.\//, '');
      if (clean.startsWith('/') || clean.split('/').includes('..') || /^[a-zA-Z]:/.test(clean)) {
        throw new CliError(`Cannot unpack the archive: unsafe entry name "${name}"`);
      }
      const dest = resolve(root, clean);
      if (dest !== root && !dest.startsWith(root + sep)) {
        throw new CliError(`Cannot unpack the archive: unsafe entry name "${name}"`);
      }
      if (type === 'directory') {
        await mkdir(dest, { recursive: true });
        entry.resume();
      } else if (type === 'file') {
        const parts: Buffer[] = [];
        for await (const chunk of entry) {
          total += (chunk as Buffer).length;
          if (total > maxUnpackedBytes) {
            throw new CliError('Cannot unpack the archive: more than 250 MiB unpacked');
          }
          parts.push(chunk as Buffer);
        }
        await mkdir(dirname(dest), { recursive: true });
        await writeFile(dest, Buffer.concat(parts), { mode: (mode ?? 0o644) & 0o755 });
      } else {
        throw new CliError(`Cannot unpack the archive: "${name}" is a ${type}, not a file`);
      }
    }
  })();
  try {
    await Promise.all([pipeline(Readable.from([bytes]), createGunzip(), extract), done]);
  } catch (error) {
    extract.destroy();
    if (error instanceof CliError) throw error;
    throw new CliError(`Cannot unpack the archive: ${(error as Error).message}`);
  }
}

async function unwrapSingleFolder(root: string): Promise<string> {
  if (await hasConfig(root)) return root;
  const entries = (await readdir(root, { withFileTypes: true })).filter(
    (e) => !skipped.has(e.name) && e.name !== '__MACOSX',
  );
  const [only] = entries;
  return entries.length === 1 && only?.isDirectory() ? join(root, only.name) : root;
}

async function hasConfig(dir: string): Promise<boolean> {
  for (const name of CONFIG_FILE_NAMES) {
    if (
      await stat(join(dir, name)).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return true;
  }
  return false;
}
