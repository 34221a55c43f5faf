import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { Output } from '../output.js';
import { materializeService, sourceBaseName } from '../service-source.js';

const serviceName = /^[a-zA-Z][0-9a-zA-Z-]+$/;

/**
 * `install -u <source> [-n name]`: a service from a repository folder, a .zip / .tar.gz (file
 * or URL) or a git URL, into a new directory named after `-n` (else after the source), with the
 * service renamed to `-n` in its serverless.yml.
 */
export async function installCommand(ctx: CliContext, opts: { url?: string; name?: string }) {
  const out = new Output(ctx, {});
  if (!opts.url) throw new CliError('Missing --url (-u): a folder, .zip / .tar.gz or git URL');
  const name = opts.name ?? sourceBaseName(opts.url);
  if (!name || name === '.' || name === '..' || /[/\\]/.test(name)) {
    throw new CliError(`Cannot name a directory after ${opts.url}: give one with --name`);
  }
  const target = resolve(ctx.cwd, name);
  await placeService(ctx, opts.url, target, opts.name);
  out.success(`Project successfully installed in "${relative(ctx.cwd, target)}" from ${opts.url}`);
}

/** Copies the service at `source` to `target` (new) and renames it when `rename` is given. */
export async function placeService(
  ctx: CliContext,
  source: string,
  target: string,
  rename: string | undefined,
): Promise<void> {
  if (rename !== undefined && !serviceName.test(rename)) {
    throw new CliError(
      `Service name "${rename}" is invalid: start with a letter, then letters, digits or hyphens`,
    );
  }
  try {
    await materializeService(source, ctx.cwd, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_FS_CP_EEXIST') {
      throw new CliError(`${relative(ctx.cwd, target) || '.'} already exists`);
    }
    throw error;
  }
  if (rename !== undefined) await renameService(target, rename);
}

/** `service: <name>` in serverless.yml/.yaml; other config formats are code and left as they are. */
async function renameService(dir: string, name: string): Promise<void> {
  for (const file of ['serverless.yml', 'serverless.yaml']) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    await writeFile(join(dir, file), text.replace(/^service:[ \t]*\S.*$/m, `service: ${name}`));
    return;
  }
}
