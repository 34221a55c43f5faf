import { cp, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../package-root.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { Output } from '../output.js';
import { sourceBaseName } from '../service-source.js';
import { placeService } from './install.js';

/** Nimbus template names, and the Serverless Framework names that map onto them. */
const templateAliases: Record<string, string> = {
  nodejs: 'nodejs',
  'aws-nodejs': 'nodejs',
  'nodejs-typescript': 'nodejs-typescript',
  'aws-nodejs-typescript': 'nodejs-typescript',
  python: 'python',
  'aws-python': 'python',
  'aws-python3': 'python',
};

export const templateNames = Object.keys(templateAliases);

const templatesRoot = join(packageRoot, 'templates');

export async function createCommand(
  ctx: CliContext,
  opts: {
    template?: string;
    templatePath?: string;
    templateUrl?: string;
    path?: string;
    name?: string;
  },
) {
  const out = new Output(ctx, {});
  const custom = opts.templatePath ?? opts.templateUrl;
  if ([opts.template, opts.templatePath, opts.templateUrl].filter(Boolean).length > 1) {
    throw new CliError('Use one of --template, --template-path or --template-url');
  }
  if (custom !== undefined) return createFromSource(ctx, out, custom, opts);
  if (!opts.template) {
    throw new CliError(
      `Missing --template (one of ${templateNames.join(', ')}), --template-path or --template-url`,
    );
  }
  const template = templateAliases[opts.template];
  if (!template) {
    throw new CliError(
      `Template "${opts.template}" is not supported. Supported templates: ${templateNames.join(', ')}`,
    );
  }
  const target = resolve(ctx.cwd, opts.path ?? opts.name ?? '.');
  const name = opts.name ?? basename(target);
  if (!/^[a-zA-Z][0-9a-zA-Z-]+$/.test(name)) {
    throw new CliError(
      `Service name "${name}" is invalid: start with a letter, then letters, digits or hyphens (set one with --name)`,
    );
  }
  if (await isNonEmptyDir(target)) {
    throw new CliError(`${relative(ctx.cwd, target) || '.'} already exists and is not empty`);
  }
  await cp(join(templatesRoot, template), target, { recursive: true });
  const config = join(target, 'serverless.yml');
  const text = await readFile(config, 'utf8');
  await writeFile(config, text.replace(/^service: .*$/m, `service: ${name}`));
  out.success(
    `Project successfully created in "${relative(ctx.cwd, target) || '.'}" from "${opts.template}" template`,
  );
}

/** `--template-path dir` / `--template-url url`: any service folder or archive as a template. */
async function createFromSource(
  ctx: CliContext,
  out: Output,
  source: string,
  opts: { path?: string; name?: string },
): Promise<void> {
  const target = resolve(ctx.cwd, opts.path ?? opts.name ?? sourceBaseName(source));
  if (await isNonEmptyDir(target)) {
    throw new CliError(`${relative(ctx.cwd, target) || '.'} already exists and is not empty`);
  }
  // An empty target dir is fine, as for built-in templates: copy into a fresh one beside it.
  await rmdir(target).catch(() => undefined);
  await placeService(ctx, source, target, opts.name ?? basename(target));
  out.success(
    `Project successfully created in "${relative(ctx.cwd, target) || '.'}" from ${source}`,
  );
}

async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return true;
    return (await readdir(path)).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
