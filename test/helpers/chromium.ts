import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';
import { makeTempDir } from './temp-dir.js';

/** Debian's chromium package (`.ci/run` installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`no Chromium at ${path}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  return path;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile, driven by playwright-core: nothing from an earlier
 * run (cookies, local storage), and no network of its own (updates, sync, QUIC probes).
 */
export async function launchChromium(
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<Browser> {
  const profile = await makeTempDir('nimbus-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: opts.viewport ?? { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await profile.cleanup();
    },
  };
}
