import type { CliContext } from '../context.js';
import { type DevOptions, startDev } from '../dev/dev-session.js';
import { onShutdownSignal } from '../shutdown-signals.js';

/** `nimbus dev`: runs until SIGINT/SIGTERM, then stops everything it started and exits 0. */
export async function devCommand(ctx: CliContext, opts: DevOptions): Promise<void> {
  const controller = new AbortController();
  const removeHandlers = onShutdownSignal(
    () => {
      ctx.stderr.write('Stopping\n');
      controller.abort();
    },
    (reason) => ctx.stderr.write(`unhandled promise rejection: ${String(reason)}\n`),
  );
  try {
    const session = await startDev(ctx, opts, { signal: controller.signal });
    await session.closed;
  } finally {
    removeHandlers();
  }
}
