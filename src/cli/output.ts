import type { Writable } from 'node:stream';

export interface OutputStreams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

/**
 * Results go to stdout, progress and logs to stderr (as the Serverless Framework does), so
 * `nimbus info --json | jq` always sees clean data. A spinner shows only on a TTY, and only for
 * steps that take longer than a blink.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly #streams: OutputStreams;

  constructor(streams: OutputStreams, opts: { json?: boolean; verbose?: boolean }) {
    this.#streams = streams;
    this.json = opts.json ?? false;
    this.verbose = opts.verbose ?? false;
  }

  /** A result line (human mode only). */
  result(line = ''): void {
    if (!this.json) this.#streams.stdout.write(`${line}\n`);
  }

  /** The machine-readable result for --json. */
  data(value: unknown): void {
    if (this.json) this.#streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  log(line: string): void {
    this.#streams.stderr.write(`${line}\n`);
  }

  success(line: string): void {
    this.log(`✔ ${line}`);
  }

  warn(line: string): void {
    this.log(`Warning: ${line}`);
  }

  detail(line: string): void {
    if (this.verbose) this.log(line);
  }

  /** Runs a step; after 300 ms a spinner appears on a TTY, nothing otherwise. */
  async step<T>(text: string, run: () => Promise<T>): Promise<T> {
    const stderr = this.#streams.stderr;
    if (!stderr.isTTY || this.json) return run();
    let spinner: { stop(): void } | undefined;
    const timer = setTimeout(async () => {
      const { default: ora } = await import('ora');
      spinner = ora({ text, stream: stderr as NodeJS.WriteStream }).start();
    }, 300);
    try {
      return await run();
    } finally {
      clearTimeout(timer);
      spinner?.stop();
    }
  }
}

export function seconds(startMs: number, nowMs: number): string {
  return `${((nowMs - startMs) / 1000).toFixed(1)}s`;
}
