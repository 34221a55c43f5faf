import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `useDotenv: true`: `.env.<stage>` if present, else `.env`. Variables already set in the
 * CLI's environment win over the file, as with dotenv.
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
  return { ...parseDotenv(text), ...definedOnly(env) };
}

/** KEY=VALUE lines; `#` comments, `export ` prefixes and surrounding quotes are dropped. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim().replace(/^export\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replaceAll('\\n', '\n');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[key] = value;
  }
  return out;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
