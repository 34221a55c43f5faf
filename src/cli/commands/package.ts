import { isAbsolute, join, relative, resolve } from 'node:path';
import { type PackageResult, packageService } from '../../packaging/package-service.js';
import { typeCheckService } from '../../packaging/type-check.js';
import type { LoadedService } from '../../service/load-service.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { loadForCli } from '../load-for-cli.js';
import { Output } from '../output.js';

/** Packages the loaded service into outDir (default `.serverless/` in the service dir). */
export async function packageLoaded(
  loaded: LoadedService,
  out: Output,
  outDir?: string,
): Promise<PackageResult> {
  const target = outDir ?? join(loaded.serviceDir, '.serverless');
  if (loaded.typeCheck !== false) {
    const checked = await out.step('Type-checking', () => typeCheckService(loaded.serviceDir));
    if (!checked.checked && checked.reason === 'no typescript') {
      out.warn('tsconfig.json found but no TypeScript to check it with: npm install -D typescript');
    }
  }
  return out.step('Packaging', () =>
    packageService({
      serviceDir: loaded.serviceDir,
      configPath: loaded.configPath,
      definition: loaded.definition,
      outDir: target,
    }),
  );
}

export async function packageCommand(ctx: CliContext, opts: ServiceOptions & { package?: string }) {
  const out = new Output(ctx, opts);
  const loaded = await loadForCli(ctx, opts, out);
  const { definition } = loaded;
  out.log(`Packaging ${definition.service} for stage ${definition.stage} (${definition.region})`);
  const outDir = opts.package
    ? isAbsolute(opts.package)
      ? opts.package
      : resolve(ctx.cwd, opts.package)
    : undefined;
  const result = await packageLoaded(loaded, out, outDir);
  out.success(`Service packaged (${relative(ctx.cwd, join(result.stateFile, '..')) || '.'})`);
  out.data(result);
  out.result('artifacts:');
  for (const a of result.artifacts)
    out.result(`  ${a.file}: ${formatBytes(a.size)} sha256:${a.sha256}`);
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}
