/**
 * Routes the function's console and stdout/stderr writes to the platform as log frames, on the
 * same channel as results, so every line of an invocation arrives before its result and END.
 */
import { format } from 'node:util';
import type { LogKind } from '../protocol.js';

export type LogSink = (kind: LogKind, text: string, ts: number) => void;

/** console method → the level word Lambda's Node runtime writes. */
const LEVELS: Record<string, string> = {
  log: 'INFO',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  debug: 'DEBUG',
  trace: 'TRACE',
};

/**
 * Lambda's text format: `<ISO time>\t<request id>\t<LEVEL>\t<util.format(...args)>`. Outside an
 * invocation (module init) the request id reads `undefined`, as on Lambda.
 */
export function formatLine(ts: number, requestId: string | undefined, level: string, msg: string) {
  return `${new Date(ts).toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${msg}`;
}

export function captureLogs(sink: LogSink, currentRequestId: () => string | undefined): void {
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, level] of Object.entries(LEVELS)) {
    target[method] = (...args: unknown[]) => {
      const ts = Date.now();
      sink('line', formatLine(ts, currentRequestId(), level, format(...args)), ts);
    };
  }
  patchStream(process.stdout, 'out', sink);
  patchStream(process.stderr, 'err', sink);
}

function patchStream(stream: NodeJS.WriteStream, kind: LogKind, sink: LogSink): void {
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const cb = typeof encoding === 'function' ? encoding : callback;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
    sink(kind, text, Date.now());
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    return true;
  };
  stream.write = write as typeof stream.write;
}
