import { Writable } from 'node:stream';
import { CliError } from './cli-error.js';
import { localTime } from './log-format.js';

/** pino's numeric levels, as words. */
const levels: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const colors: Record<number, number> = { 40: 33, 50: 31, 60: 31 };
/** Fields every line has, or that are shown in their own place. */
const hidden = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err', 'v']);

export type LogFormat = 'pretty' | 'json';

/** `--log-format`: pretty on a terminal, JSON otherwise (log collectors, files, pipes). */
export function pickLogFormat(flag: string | undefined, stream: { isTTY?: boolean }): LogFormat {
  if (flag === undefined) return stream.isTTY ? 'pretty' : 'json';
  if (flag === 'pretty' || flag === 'json') return flag;
  throw new CliError(`--log-format must be pretty or json, not "${flag}"`);
}

/**
 * A destination for pino that prints each JSON line as `HH:MM:SS.mmm LEVEL message key=value`,
 * as pino-pretty does, in a few lines instead of a dependency. An error shows as its type and
 * message: the stack is in the JSON form (`--log-format json`), for whoever needs it.
 */
export function prettyDestination(out: NodeJS.WritableStream, opts: { color: boolean }): Writable {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, done) {
      pending += chunk.toString();
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line) out.write(`${prettyLine(line, opts)}\n`);
        newline = pending.indexOf('\n');
      }
      done();
    },
  });
}

export function prettyLine(line: string, opts: { color: boolean }): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = Number(entry.level);
  const time = typeof entry.time === 'number' ? localTime(entry.time).slice(11) : '';
  let word = (levels[level] ?? String(entry.level)).padEnd(5);
  if (opts.color && colors[level]) word = `\u001b[${colors[level]}m${word}\u001b[39m`;
  let text = `${time} ${word} ${String(entry.msg ?? '')}`;
  for (const [key, value] of Object.entries(entry)) {
    if (hidden.has(key)) continue;
    text += ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
  }
  const err = entry.err as { type?: string; message?: string } | undefined;
  if (err) text += `: ${err.type ? `${err.type}: ` : ''}${err.message ?? ''}`;
  return text;
}
