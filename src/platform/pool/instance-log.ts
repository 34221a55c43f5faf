/** Lambda's platform log lines and the small text tools the instance needs to produce them. */

/** `YYYY/MM/DD/[version]<instance id>`, dated when the instance started (UTC). */
export function logStreamName(startedAtMs: number, version: string, instanceId: string): string {
  const iso = new Date(startedAtMs).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/[${version}]${instanceId}`;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export interface ReportFields {
  requestId: string;
  durationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number;
}

/** Field order and the trailing tab are Lambda's (Init Duration last, only on a cold start). */
export function reportLine(f: ReportFields): string {
  const init =
    f.initDurationMs === undefined ? '' : `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  return (
    `REPORT RequestId: ${f.requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${Math.max(1, Math.ceil(f.durationMs))} ms\tMemory Size: ${f.memorySizeMb} MB\t` +
    `Max Memory Used: ${f.maxMemoryUsedMb} MB\t${init}`
  );
}

/**
 * Raw stdout/stderr text becomes one log event per line, as CloudWatch splits a stream. A line
 * still open is held until its newline or until flush() (end of an invocation).
 */
export class LineSplitter {
  #partial = '';

  push(text: string, emit: (line: string) => void): void {
    let from = 0;
    let nl = text.indexOf('\n');
    if (nl === -1) {
      this.#partial += text;
      return;
    }
    while (nl !== -1) {
      const piece = text.slice(from, nl);
      const line = this.#partial.length > 0 ? this.#partial + piece : piece;
      this.#partial = '';
      emit(line.endsWith('\r') ? line.slice(0, -1) : line);
      from = nl + 1;
      nl = text.indexOf('\n', from);
    }
    this.#partial = text.slice(from);
  }

  flush(emit: (line: string) => void): void {
    if (this.#partial.length === 0) return;
    const line = this.#partial;
    this.#partial = '';
    emit(line);
  }
}

/**
 * One invocation's lines for X-Amz-Log-Type: Tail. The caller keeps the last 4 KB; this keeps a
 * bounded tail too, so a chatty function cannot grow it without limit.
 */
export class LogTail {
  static readonly LIMIT = 64 * 1024;
  #lines: string[] = [];
  #size = 0;

  add(line: string): void {
    this.#lines.push(line);
    this.#size += line.length + 1;
    while (this.#size > LogTail.LIMIT && this.#lines.length > 1) {
      this.#size -= (this.#lines.shift() as string).length + 1;
    }
  }

  text(): string {
    return this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`;
  }
}
