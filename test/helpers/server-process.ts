import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

const bin = join(repoRoot, 'bin', 'nimbus.js');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
}

/**
 * A real `nimbus server` on a free port, as a child process in a process group of its own (so a
 * test that signals or kills it never reaches the test runner). Resolves once it listens.
 */
export async function startServerProcess(opts: {
  dataDir: string;
  home: string;
  args?: string[];
  env?: Record<string, string>;
}): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [bin, 'server', '--port', '0', '--data-dir', opts.dataDir, ...(opts.args ?? [])],
    {
      env: { PATH: process.env.PATH, HOME: opts.home, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then(({ code }) => reject(new Error(`server exited with ${code}: ${output}`)), reject);
  });
  // A token from the environment is never written to the data dir.
  const token =
    opts.env?.NIMBUS_ADMIN_TOKEN ??
    (await readFile(join(opts.dataDir, 'admin-token'), 'utf8')).trim();
  return { child, url, token, exited, output: () => output };
}
