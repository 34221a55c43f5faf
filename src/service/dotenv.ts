import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { expand } from 'dotenv-expand';

/**
 * `useDotenv: true`, as the Serverless Framework does it: `.env.<stage>` if present, else
 * `.env`, parsed by dotenv (quotes, multi-line values, `#` comments, `export`) and expanded by
 * dotenv-expand (`${VAR}`, `$VAR`, `${VAR:-default}`, `\$` escapes). Variables already set in
 * the CLI's environment win over the file and are never expanded again.
 */
export async function loadDotenv(
  serviceDir: string,
  stage: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, string | undefined>> {
  const text =
    (await readIfExists(join(serviceDir, `.env.${stage}`))) ??
    (await readIfExists(join(serviceDir, '.env')));
  if (text === undefined) return env;
  return parseDotenv(text, env);
}

/** The environment after loading `text` over `env` (a copy: `env` itself is left alone). */
export function parseDotenv(
  text: string,
  env: Record<string, string | undefined> = {},
): Record<string, string> {
  const processEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) processEnv[k] = v;
  expand({ parsed: dotenv.parse(text), processEnv });
  return processEnv;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
