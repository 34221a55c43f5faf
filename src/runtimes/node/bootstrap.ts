/**
 * Nimbus's Node.js bootstrap: the first code of every Node function process. It boots with no
 * user code, says `ready`, and waits on fd 3 for `init` (load the handler) and then `invoke`
 * frames: one at a time, or with `conc` in init (the function's `concurrency`) several at once,
 * each answered by its id. See src/runtimes/protocol.ts and docs/runtimes.md.
 *
 * Run as `node [--max-old-space-size=N] <this file>` with fd 3 a socketpair to the platform.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { FunctionErrorBody } from '../../model/invocation.js';
import {
  encodeFrame,
  type FrameHeader,
  FrameReader,
  type FunctionInfo,
  type ToRuntimeFrame,
} from '../protocol.js';
import { installAwsSdkFallback } from './aws-sdk-fallback.js';
import { toErrorBody } from './error-body.js';
import { type Callback, InitFailure, loadHandler, type UserHandler } from './handler-loader.js';
import { makeContext } from './invoke-context.js';
import { installLayerModules } from './layer-modules.js';
import { captureLogs, formatLine } from './log-capture.js';
import { installAwsLambdaGlobal, isStreamingHandler, ResponseStream } from './response-stream.js';

type InitFrame = Extract<ToRuntimeFrame, { t: 'init' }>;
type InvokeFrame = Extract<ToRuntimeFrame, { t: 'invoke' }>;

const control = new Socket({ fd: 3, readable: true, writable: true });
let fn: FunctionInfo | undefined;
let handler: UserHandler | undefined;
/** The request id console lines carry; kept after a response, as Lambda does. */
let requestId: string | undefined;
/** Invocations without an answer yet; a fatal error is reported against each. */
const active = new Set<string>();
/**
 * Several invocations at once (init's `conc`): a log line's request id is then the one whose
 * code is running, followed through awaits and timers by AsyncLocalStorage.
 */
let concurrent = false;
const invocationOf = new AsyncLocalStorage<string>();
/** Set while a non-async handler's answer waits for the event loop to run dry. */
let onDrain: (() => void) | undefined;
/** Set once a fatal error is on its way out: the channel is closing, writes would fail. */
let exitCode: number | undefined;

function send(header: object, body?: string | Buffer): void {
  if (exitCode === undefined) control.write(encodeFrame(header, body));
}

function logError(label: string, body: FunctionErrorBody, id = currentRequestId()): void {
  const ts = Date.now();
  send(
    logHeader('line', ts, id),
    formatLine(ts, id, 'ERROR', `${label} \t${JSON.stringify(body)}`),
  );
}

function currentRequestId(): string | undefined {
  return concurrent ? invocationOf.getStore() : requestId;
}

function logHeader(k: string, ts: number, id: string | undefined): object {
  return concurrent && id !== undefined ? { t: 'log', k, ts, id } : { t: 'log', k, ts };
}

installAwsLambdaGlobal();
captureLogs((k, text, ts) => send(logHeader(k, ts, currentRequestId()), text), currentRequestId);

const reader = new FrameReader((header, body) => onFrame(header, body));
control.on('data', (chunk: Buffer) => reader.push(chunk));
// The platform went away: nothing will ever ask this process for anything again.
control.on('end', () => process.exit(0));
control.on('error', () => process.exit(exitCode ?? 1));

process.on('uncaughtException', (err) => fatal('Uncaught Exception', toErrorBody(err), 129));
process.on('unhandledRejection', (reason) => {
  const body = toErrorBody(reason);
  fatal(
    'Unhandled Promise Rejection',
    {
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: `${body.errorType}: ${body.errorMessage}`,
      stackTrace: body.stackTrace ?? [],
    },
    128,
  );
});

// A callback-style handler answers once the event loop is empty (callbackWaitsForEmptyEventLoop):
// the control socket is unref'd while it waits, so an empty loop shows up as beforeExit.
process.on('beforeExit', () => {
  const run = onDrain;
  if (run) run();
});

function onFrame(header: FrameHeader, body: Buffer): void {
  if (header.t === 'invoke') invoke(header as unknown as InvokeFrame, body);
  else if (header.t === 'init') void init(header as unknown as InitFrame);
}

async function init(frame: InitFrame): Promise<void> {
  if (frame.runAs) becomeUser(frame.runAs);
  for (const key of Object.keys(process.env)) {
    if (!Object.hasOwn(frame.env, key)) delete process.env[key];
  }
  Object.assign(process.env, frame.env);
  installLayerModules(process.env);
  fn = frame.fn;
  concurrent = (frame.conc ?? 1) > 1;
  try {
    process.chdir(frame.taskRoot);
    handler = await loadHandler(frame.taskRoot, frame.handler);
    send({ t: 'inited' });
  } catch (err) {
    const error = err instanceof InitFailure ? err.body : toErrorBody(err);
    logError('Init Error', error);
    send({ t: 'initError', error });
  }
}

/**
 * Drops root for good before any user code loads: no supplementary groups, then the group, then
 * the user (real, effective and saved alike). Anything short of that ends the process: running a
 * function as root is never the fallback.
 */
function becomeUser(runAs: { uid: number; gid: number }): void {
  try {
    process.setgroups?.([]);
    process.setgid?.(runAs.gid);
    process.setuid?.(runAs.uid);
  } catch (err) {
    process.stderr.write(`nimbus bootstrap: cannot run as uid ${runAs.uid}: ${String(err)}\n`);
  }
  if (process.getuid?.() !== runAs.uid || process.geteuid?.() !== runAs.uid) process.exit(70);
}

function invoke(frame: InvokeFrame, body: Buffer): void {
  if (concurrent) invocationOf.run(frame.id, () => runInvocation(frame, body));
  else runInvocation(frame, body);
}

function runInvocation(frame: InvokeFrame, body: Buffer): void {
  const id = frame.id;
  requestId = id;
  // As Lambda: the X-Ray header of the current invocation, read by tracing SDKs.
  if (frame.tr) process.env._X_AMZN_TRACE_ID = frame.tr;
  else delete process.env._X_AMZN_TRACE_ID;
  active.add(id);
  let settled = false;
  let returned = false;
  let promised = false;
  let pending: { err: unknown; result: unknown } | undefined;

  const finish = (failed: boolean, value: unknown, streamed = false): void => {
    if (settled) return;
    settled = true;
    active.delete(id);
    if (onDrain) {
      onDrain = undefined;
      control.ref();
    }
    if (failed) sendError(id, value);
    else if (streamed) send({ t: 'result', id, s: 1 });
    else sendResult(id, value);
  };
  const finishPending = (): void => {
    const p = pending ?? { err: null, result: null };
    if (p.err !== undefined && p.err !== null) finish(true, p.err);
    else finish(false, p.result);
  };
  const callback: Callback = (err, result) => {
    if (settled || pending) return;
    pending = { err, result };
    if (returned && (promised || concurrent || !context.callbackWaitsForEmptyEventLoop)) {
      finishPending();
    }
  };

  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch (err) {
    finish(true, err);
    return;
  }
  const context = makeContext(fn as FunctionInfo, id, frame.dl, frame.cc, callback);
  if (isStreamingHandler(handler)) {
    runStreaming(id, event, context, finish);
    return;
  }
  let ret: unknown;
  try {
    ret = (handler as UserHandler)(event, context, callback);
  } catch (err) {
    finish(true, err);
    return;
  }
  returned = true;
  if (
    ret !== null &&
    typeof ret === 'object' &&
    typeof (ret as Promise<unknown>).then === 'function'
  ) {
    promised = true;
    (ret as Promise<unknown>).then(
      (result) => finish(false, result),
      (err) => finish(true, err),
    );
    if (pending) finishPending();
    return;
  }
  if (pending && (concurrent || !context.callbackWaitsForEmptyEventLoop)) {
    finishPending();
    return;
  }
  // Other invocations keep the event loop busy: a concurrent instance answers on the callback.
  if (concurrent) return;
  onDrain = finishPending;
  control.unref();
}

/**
 * A streamified handler: `(event, responseStream, context)`. Each write is a chunk frame now; the
 * invocation ends once the handler has settled and the stream has ended (as on Lambda, a stream
 * never ended runs into the timeout). A handler error after writes still ends it as an error.
 */
function runStreaming(
  id: string,
  event: unknown,
  context: object,
  finish: (failed: boolean, value: unknown, streamed?: boolean) => void,
): void {
  const stream = new ResponseStream((bytes, ct) =>
    send(ct === undefined ? { t: 'chunk', id } : { t: 'chunk', id, ct }, bytes),
  );
  const ended = new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
  });
  Promise.resolve()
    .then(() => (handler as unknown as StreamingCall)(event, stream, context))
    .then(() => ended)
    .then(
      () => finish(false, null, true),
      (err: unknown) => finish(true, err),
    );
}

type StreamingCall = (event: unknown, stream: ResponseStream, context: object) => unknown;

function sendResult(id: string, result: unknown): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (err) {
    const body = toErrorBody(err);
    sendError(id, {
      name: 'Runtime.MarshalError',
      message: `Unable to stringify response body: ${body.errorMessage}`,
    });
    return;
  }
  send({ t: 'result', id }, json ?? 'null');
}

function sendError(id: string, err: unknown): void {
  const error = toErrorBody(err);
  logError('Invoke Error', error, id);
  send({ t: 'error', id, error });
}

function fatal(label: string, error: FunctionErrorBody, code: number): void {
  logError(label, error);
  if (exitCode !== undefined) return;
  const last = [...active].map((id) => encodeFrame({ t: 'error', id, error, fatal: true }));
  exitCode = code;
  // end() flushes what is queued before the callback, so the errors reach the platform first.
  control.end(Buffer.concat(last), () => process.exit(code));
  setTimeout(() => process.exit(code), 1000).unref();
}

/**
 * A cold start should only pay for the user's module: Node's CommonJS and ESM loaders are slow
 * on their first file (~3 ms each), so each loads a throwaway module from the temp dir now,
 * before `ready`, while the process is still generic.
 */
async function warmUp(): Promise<void> {
  const dir = process.env.TMPDIR;
  if (!dir) return;
  const files = [join(dir, 'nimbus-warm-up.cjs'), join(dir, 'nimbus-warm-up-esm.mjs')];
  try {
    writeFileSync(files[0] as string, 'module.exports.handler = async (event) => event;\n');
    writeFileSync(files[1] as string, 'export const handler = async (event) => event;\n');
    await loadHandler(dir, 'nimbus-warm-up.handler');
    await loadHandler(dir, 'nimbus-warm-up-esm.handler');
    JSON.parse(JSON.stringify({ warm: [1, 'up'] }));
  } catch {
    // Only a lost optimisation.
  } finally {
    for (const file of files) rmSync(file, { force: true });
    delete createRequire(import.meta.url).cache[files[0] as string];
  }
}

await warmUp();
// Before any user code: `@aws-sdk/*` the function does not bundle comes from the platform.
installAwsSdkFallback(process.env.NIMBUS_AWS_SDK_DIR);
send({ t: 'ready' });
