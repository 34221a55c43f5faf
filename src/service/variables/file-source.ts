import { readFile } from 'node:fs/promises';
import { extname, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { documentToJs } from '../yaml-to-js.js';
import type { SourceCall, VariableSource } from './resolver.js';
import { VariableSourceError } from './source-error.js';

/**
 * `${file(./path):a.b}`: YAML and JSON files are parsed, anything else is read as text.
 * Paths are relative to the service directory and may not leave it. A missing file or
 * property is "not found", so fallbacks apply.
 */
export function fileSource(serviceDir: string): VariableSource {
  const cache = new Map<string, Promise<unknown>>();
  return async ({ params, address }: SourceCall) => {
    const [target] = params;
    if (typeof target !== 'string' || target === '') {
      throw new VariableSourceError('the "file" source needs a path, e.g. file(./config.yml)');
    }
    const full = resolve(serviceDir, target);
    if (!full.startsWith(`${serviceDir}${sep}`)) {
      throw new VariableSourceError(`cannot load "${target}": it is outside the service folder`);
    }
    let content = cache.get(full);
    if (!content) {
      content = loadFile(full, relative(serviceDir, full));
      cache.set(full, content);
    }
    let value = await content;
    for (const key of address ? address.split('.') : []) {
      if (value === null || typeof value !== 'object') return null;
      value = (value as Record<string, unknown>)[key];
    }
    return value === undefined ? null : structuredClone(value);
  };
}

async function loadFile(full: string, shown: string): Promise<unknown> {
  const ext = extname(full);
  if (['.js', '.cjs', '.mjs', '.ts'].includes(ext)) {
    throw new VariableSourceError(
      `"${shown}": JavaScript files are not supported by Nimbus's "file" source (use YAML or JSON)`,
    );
  }
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new VariableSourceError(`cannot read "${shown}": ${(error as Error).message}`);
  }
  if (!['.yml', '.yaml', '.json'].includes(ext)) return text;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
  const [first] = doc.errors;
  if (first) {
    const { line, col } = lines.linePos(first.pos[0]);
    throw new VariableSourceError(`cannot parse "${shown}:${line}:${col}": ${first.message}`);
  }
  return documentToJs(doc);
}
