import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError } from './cli-error.js';

/** A file an option names, relative to the service dir; unreadable is one clear line. */
export async function readInput(serviceDir: string, file: string, flag: string): Promise<string> {
  const path = resolve(serviceDir, file);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `${flag} ${file}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
}
