/** Polls until `check` yields a value (not undefined), or fails naming `what` after `ms`. */
export async function waitForValue<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls until `check` is true, or fails naming `what` after `ms`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  ms = 10_000,
): Promise<void> {
  await waitForValue(async () => ((await check()) ? true : undefined), what, ms);
}
