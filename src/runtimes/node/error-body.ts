import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionErrorBody } from '../../model/invocation.js';

/** src/runtimes (compiled): stack frames from here down are Nimbus's plumbing, not the user's. */
const RUNTIMES_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * What Lambda's Node runtime reports for a failure: for an Error, its name, message and stack
 * lines; for anything else thrown or passed to callback(err), `typeof` as the type.
 */
export function toErrorBody(err: unknown): FunctionErrorBody {
  if (err instanceof Error || isErrorLike(err)) {
    const e = err as Error;
    return {
      errorType: String(e.name ?? 'Error'),
      errorMessage: String(e.message ?? ''),
      stackTrace: typeof e.stack === 'string' ? userFrames(e.stack.split('\n')) : [],
    };
  }
  return { errorType: typeof err, errorMessage: String(err), stackTrace: [] };
}

/** The stack up to the first frame of the bootstrap: what called the handler is noise. */
function userFrames(lines: string[]): string[] {
  const cut = lines.findIndex((line) => line.includes(RUNTIMES_DIR));
  return cut === -1 ? lines : lines.slice(0, cut);
}

/** Errors from another realm (vm contexts) fail instanceof but still carry name and message. */
function isErrorLike(err: unknown): boolean {
  return (
    err !== null &&
    typeof err === 'object' &&
    typeof (err as { message?: unknown }).message === 'string' &&
    typeof (err as { name?: unknown }).name === 'string'
  );
}
