/**
 * How `nimbus logs` and `nimbus invoke -l` print a Lambda-format log line, as the Serverless
 * Framework does (docs/logs.md has the table). Pure: the caller decides on colour.
 */

export interface LogFormatOptions {
  /** ANSI dim for START/END, red for a crashed process; only for a TTY. */
  color: boolean;
  /**
   * `summary` (default, `nimbus logs`): `START` and one `END Duration ...` line, as the
   * Framework's `logs`. `raw` (`invoke -l`): START, END and REPORT as Lambda wrote them, with
   * request id, billed duration, memory size and init duration.
   */
  platformLines?: 'summary' | 'raw';
}

/** `2024-01-02T03:04:05.678Z`, as both runtimes print it. */
const iso = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?Z)';
/** Node: `<ISO>\t<request id>\t<rest>`; `s` because one event may hold several lines. */
const nodeLine = new RegExp(`^${iso}\\t([^\\t]+)\\t(.*)$`, 's');
/** Python: `[LEVEL]\t<ISO>\t<request id>\t<message>`. */
const pythonLine = new RegExp(`^\\[(\\w+)\\]\\t${iso}\\t([^\\t]+)\\t(.*)$`, 's');

/** The printed form of one line, or undefined for a line that is not printed. */
export function formatLogLine(line: string, opts: LogFormatOptions): string | undefined {
  if (line.includes('SERVERLESS_ENTERPRISE')) return undefined;
  if (opts.platformLines === 'raw' && /^(START|END|REPORT) RequestId: /.test(line)) {
    return dim(line.trimEnd(), opts);
  }
  if (line.startsWith('END') || line.includes('SERVERLESS_ENTERPRISE')) return undefined;
  if (line.startsWith('START')) return dim('START', opts);
  if (line.startsWith('REPORT')) return dim(reportSummary(line), opts);
  if (line.includes('Process exited before completing request')) return red(line, opts);

  const node = nodeLine.exec(line);
  if (node) return `${localTime(node[1]!)}\t${node[3]}`;
  const python = pythonLine.exec(line);
  if (python) return `${localTime(python[2]!)}\t[${python[1]}]\t${python[4]}`;
  return line;
}

/** `END Duration: 1.23 ms (init: 150.00 ms) Memory Used: 70 MB`; init only on a cold start. */
function reportSummary(line: string): string {
  const field = (label: string) => new RegExp(`(?:^|\\t)${label}: ([^\\t]+)`).exec(line)?.[1];
  const duration = field('Duration');
  const init = field('Init Duration');
  const memory = field('Max Memory Used');
  let text = 'END';
  if (duration) text += ` Duration: ${duration}`;
  if (init) text += ` (init: ${init})`;
  if (memory) text += ` Memory Used: ${memory}`;
  return text;
}

/** `YYYY-MM-DD HH:mm:ss.SSS` in the local time zone. */
export function localTime(isoOrMs: string | number): string {
  const d = new Date(isoOrMs);
  if (Number.isNaN(d.getTime())) return String(isoOrMs);
  const p = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

function dim(text: string, opts: LogFormatOptions): string {
  return opts.color ? `\u001b[2m${text}\u001b[22m` : text;
}

function red(text: string, opts: LogFormatOptions): string {
  return opts.color ? `\u001b[31m${text}\u001b[39m` : text;
}
