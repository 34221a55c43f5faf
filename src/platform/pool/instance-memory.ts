/**
 * Reads a process's resident memory from /proc/<pid>/status. The file is opened once and re-read
 * from offset 0 (procfs regenerates it on every read), which costs a few microseconds, cheap
 * enough for every invocation's REPORT and a poll every 50 ms while busy.
 * Where /proc is missing (not Linux) every reading is 0 and nothing is enforced.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface MemoryReading {
  /** VmRSS, MB (rounded up). */
  rssMb: number;
  /** VmHWM, the peak RSS over the process's life, MB (rounded up). */
  peakMb: number;
}

const BUFFER = Buffer.alloc(4096);

export class ProcMemory {
  #fd: number | undefined;
  #last: MemoryReading = { rssMb: 0, peakMb: 0 };

  constructor(pid: number | undefined) {
    if (pid === undefined) return;
    try {
      this.#fd = openSync(`/proc/${pid}/status`, 'r');
    } catch {
      this.#fd = undefined;
    }
  }

  /** The current reading; once the process is gone, the last one taken. */
  read(): MemoryReading {
    if (this.#fd === undefined) return this.#last;
    let size: number;
    try {
      size = readSync(this.#fd, BUFFER, 0, BUFFER.length, 0);
    } catch {
      this.close();
      return this.#last;
    }
    const text = BUFFER.toString('latin1', 0, size);
    const rss = kb(text, 'VmRSS:');
    const hwm = kb(text, 'VmHWM:');
    if (rss === undefined) return this.#last;
    this.#last = { rssMb: Math.ceil(rss / 1024), peakMb: Math.ceil((hwm ?? rss) / 1024) };
    return this.#last;
  }

  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = undefined;
  }
}

function kb(text: string, key: string): number | undefined {
  const at = text.indexOf(key);
  if (at === -1) return undefined;
  const end = text.indexOf('\n', at);
  const value = Number.parseInt(text.slice(at + key.length, end === -1 ? undefined : end), 10);
  return Number.isNaN(value) ? undefined : value;
}
