import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  FunctionTarget,
  InvokeRequest,
  InvokeResult,
  LogEvent,
} from '../../src/model/invocation.js';
import { fixturePath } from '../helpers/repo-root.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The suite runs as root in CI: functions then run as nobody, as the platform would run them. */
export const asRoot = process.getuid?.() === 0;
export const nobody = { uid: 65534, gid: 65534 };

let readableFixtures: string | undefined;

/**
 * A runtime fixture, from a copy of test/fixtures/runtimes that the function user can read: the
 * checkout itself may sit under a directory only root can enter (CI clones into a 0700 dir).
 */
export function fixture(...parts: string[]): string {
  if (!readableFixtures) {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-fixtures-'));
    cpSync(fixturePath('runtimes'), dir, { recursive: true });
    chmodSync(dir, 0o755);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    readableFixtures = dir;
  }
  return join(readableFixtures, ...parts);
}

const RUNTIMES = { nodejs: 'nodejs20.x', python: 'python3.12', provided: 'provided.al2023' };

export function makeTarget(
  family: FunctionTarget['runtimeFamily'],
  codeDir: string,
  handler: string,
  overrides: Partial<FunctionTarget> = {},
): FunctionTarget {
  return {
    functionName: 'svc-dev-fn',
    version: '3',
    runtime: RUNTIMES[family],
    runtimeFamily: family,
    handler,
    memorySize: 256,
    timeout: 1,
    environment: {},
    region: 'eu-west-1',
    codeDir,
    ...overrides,
  };
}

/** A temp root the function's user can pass through (mkdtemp makes 0700 directories). */
export async function makeTmpRoot(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const tmp = await makeTempDir('nimbus-rt-');
  await chmod(tmp.dir, 0o711);
  return tmp;
}

export function request(event: unknown, overrides: Partial<InvokeRequest> = {}): InvokeRequest {
  return {
    requestId: randomUUID(),
    payload: JSON.stringify(event),
    deadlineMs: Date.now() + 1000,
    ...overrides,
  };
}

/** Collects log events and lets a test wait for one that arrives after an invocation. */
export class LogCollector {
  readonly events: LogEvent[] = [];
  #waiters: { match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];

  readonly onLog = (e: LogEvent): void => {
    this.events.push(e);
    for (const w of this.#waiters.filter((x) => x.match(e))) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(e);
    }
  };

  forRequest(requestId: string): string[] {
    return this.events.filter((e) => e.requestId === requestId).map((e) => e.message);
  }

  waitFor(match: (e: LogEvent) => boolean, ms = 1000): Promise<LogEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('log line did not arrive')), ms);
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}

/** The payload of a successful invocation, parsed; fails the test on an error outcome. */
export function ok(result: InvokeResult): unknown {
  assert.equal(result.outcome.status, 'ok', JSON.stringify(result.outcome));
  return JSON.parse((result.outcome as { payload: string }).payload);
}

/** The error of a failed invocation; fails the test on a success. */
export function errorOf(result: InvokeResult) {
  assert.equal(result.outcome.status, 'error', JSON.stringify(result.outcome));
  return (result.outcome as Extract<InvokeResult['outcome'], { status: 'error' }>).error;
}
