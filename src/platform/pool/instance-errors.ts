/**
 * The error bodies the platform itself produces when an invocation fails outside the handler
 * (timeout, memory, exit, oversized response), worded as Lambda words them; and the one error
 * class the instance layer throws at its caller.
 */

import { NimbusError } from '../../errors/nimbus-error.js';
import type { FunctionErrorBody } from '../../model/invocation.js';

/** Lambda's buffered response cap (RIE `interop/model.go`): 6 MiB plus 100 bytes. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/** `Task timed out after 3.00 seconds`, prefixed with the time and request id, as Lambda's legacy payload. */
export function timeoutError(
  nowMs: number,
  requestId: string,
  timeoutSec: number,
): FunctionErrorBody {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `${new Date(nowMs).toISOString()} ${requestId} Task timed out after ${timeoutSec.toFixed(2)} seconds`,
  };
}

export function outOfMemoryError(usedMb: number, limitMb: number): FunctionErrorBody {
  return {
    errorType: 'Runtime.OutOfMemory',
    errorMessage: `Runtime exited with error: out of memory: used ${usedMb} MB, over the function's memory size of ${limitMb} MB; the process was killed`,
  };
}

/** Go's ProcessState wording, which is what Lambda's messages quote. */
const SIGNAL_WORDS: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGPIPE: 'broken pipe',
  SIGQUIT: 'quit',
  SIGTRAP: 'trace/breakpoint trap',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
};

export function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${SIGNAL_WORDS[signal] ?? signal}`;
  return `exit status ${code ?? 0}`;
}

export function exitError(code: number | null, signal: NodeJS.Signals | null): FunctionErrorBody {
  return {
    errorType: 'Runtime.ExitError',
    errorMessage:
      code === 0 && !signal
        ? 'Runtime exited without providing a reason'
        : `Runtime exited with error: ${exitDescription(code, signal)}`,
  };
}

export function responseTooLargeError(
  bytes: number,
  limit = MAX_RESPONSE_BYTES,
): FunctionErrorBody {
  return {
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${limit} bytes).`,
  };
}

export function initTimeoutError(limitMs: number): FunctionErrorBody {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `Init timed out after ${(limitMs / 1000).toFixed(2)} seconds`,
  };
}

export type InstanceErrorCode =
  /** invoke() on an instance that is starting, busy or dead: the caller must pick another. */
  | 'NIMBUS_INSTANCE_NOT_IDLE'
  /** The runtime process could not be started (interpreter missing, code dir unreadable...). */
  | 'NIMBUS_INSTANCE_SPAWN_FAILED'
  /** specialize() on a generic runtime that is not ready (already used, or died). */
  | 'NIMBUS_INSTANCE_NOT_READY'
  /** The instance's options cannot work (tmpRoot not reachable by runAsUser, bad family...). */
  | 'NIMBUS_INSTANCE_CONFIG';

/** A platform-side failure of the instance layer, never a function's own error. */
export class InstanceError extends NimbusError {
  declare readonly code: InstanceErrorCode;

  constructor(code: InstanceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
