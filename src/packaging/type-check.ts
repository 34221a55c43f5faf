import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PackagingError } from './errors.js';

export type TypeCheckResult =
  | { checked: true }
  | { checked: false; reason: 'no tsconfig' | 'no typescript' };

/** `src/handler.ts(3,7): error TS2322: ...` as tsc prints it without --pretty. */
const tscLine = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/;
/** Beyond this, more lines only scroll the first ones away. */
const maxShown = 20;

/**
 * Runs `tsc --noEmit` on the service when it has a tsconfig.json: esbuild bundles TypeScript
 * without checking types, so this is where a type error stops a package or deploy. tsc is the
 * service's own (node_modules/typescript) when it has one, else the one installed with Nimbus;
 * with neither, nothing is checked and the caller says so. Errors come out as file:line:col.
 */
export async function typeCheckService(serviceDir: string): Promise<TypeCheckResult> {
  const tsconfig = join(serviceDir, 'tsconfig.json');
  try {
    await access(tsconfig);
  } catch {
    return { checked: false, reason: 'no tsconfig' };
  }
  const tsc = findTsc(serviceDir);
  if (!tsc) return { checked: false, reason: 'no typescript' };
  const output = await new Promise<string | undefined>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '-p',
        tsconfig,
        '--pretty',
        'false',
        // Incremental: an unchanged service re-checks in about half the time (a no-op deploy).
        // The state file sits with the other build output, which packaging never ships.
        '--incremental',
        '--tsBuildInfoFile',
        join(serviceDir, '.serverless', 'tsconfig.tsbuildinfo'),
      ],
      { cwd: serviceDir, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(undefined);
        // tsc exits 1 or 2 with its diagnostics on stdout; anything else is a broken tsc.
        if (typeof error.code === 'number' && stdout) return resolve(stdout);
        reject(
          new PackagingError(
            'NIMBUS_PACKAGING_TYPE_ERRORS',
            `tsc --noEmit could not run: ${(stderr || error.message).trim()}`,
            { cause: error },
          ),
        );
      },
    );
  });
  if (output === undefined) return { checked: true };
  const diagnostics = formatDiagnostics(output);
  const more =
    diagnostics.length > maxShown ? [`... and ${diagnostics.length - maxShown} more`] : [];
  throw new PackagingError(
    'NIMBUS_PACKAGING_TYPE_ERRORS',
    ['TypeScript errors (tsc --noEmit):', ...diagnostics.slice(0, maxShown), ...more].join('\n  '),
  );
}

/** tsc's lines as `file:line:col error TSxxxx: message`; continuation lines stay attached. */
export function formatDiagnostics(output: string): string[] {
  const lines: string[] = [];
  for (const raw of output.split('\n')) {
    if (!raw.trim()) continue;
    const match = tscLine.exec(raw.trimEnd());
    if (match) {
      const [, file, line, column, severity, code, message] = match;
      lines.push(`${file}:${line}:${column} ${severity} ${code}: ${message}`);
    } else if (lines.length > 0) {
      lines[lines.length - 1] += ` ${raw.trim()}`;
    } else {
      lines.push(raw.trim());
    }
  }
  return lines;
}

function findTsc(serviceDir: string): string | undefined {
  for (const from of [join(serviceDir, 'package.json'), import.meta.url]) {
    try {
      return createRequire(from).resolve('typescript/bin/tsc');
    } catch {
      // Not installed there: try the next place.
    }
  }
  return undefined;
}
