import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the CLI looks for a platform when nothing else is configured. */
export const defaultHost = '127.0.0.1';
export const defaultPort = 8642;
export const defaultEndpoint = `http://${defaultHost}:${defaultPort}`;

/**
 * The platform's data dir: NIMBUS_DATA_DIR, else $XDG_DATA_HOME/nimbus, else
 * ~/.local/share/nimbus. The CLI uses the same rule to find the local admin token.
 */
export function defaultDataDir(env: Record<string, string | undefined>): string {
  if (env.NIMBUS_DATA_DIR) return env.NIMBUS_DATA_DIR;
  const xdg = env.XDG_DATA_HOME;
  const base = xdg ? xdg : join(env.HOME ?? homedir(), '.local', 'share');
  return join(base, 'nimbus');
}

/** Lambda's deployment package limits (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const MiB = 1024 * 1024;
