import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs the CLI in-process (same code path as bin/nimbus.js) and captures what it prints. */
export async function runCli(
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined> },
): Promise<CliRun> {
  const out = collector();
  const err = collector();
  const code = await main(['node', 'nimbus', ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdout: out.stream,
    stderr: err.stream,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}
