import type { CliContext } from '../context.js';
import { type DevOptions, startDev } from '../dev/dev-session.js';

/** `nimbus dev`: runs until SIGINT/SIGTERM, then stops everything it started and exits 0. */
export async function devCommand(ctx: CliContext, opts: DevOptions): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const stop = () => {
    signals += 1;
    // A second Ctrl-C means the clean stop is stuck: leave at once.
    if (signals > 1) process.exit(130);
    ctx.stderr.write('Stopping\n');
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const session = await startDev(ctx, opts, { signal: controller.signal });
    await session.closed;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
