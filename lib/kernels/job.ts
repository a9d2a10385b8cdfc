/**
 * Options every long-running (async) operation accepts, and the plumbing that connects them
 * to native jobs and to chunked JS twins.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

import { DeepgenError, fromNativeError } from "../core/errors.js";

export interface JobOptions {
  /** Cancels the work; the promise rejects with DeepgenError E_ABORTED. */
  signal?: AbortSignal;
  /** Called on the event loop with the fraction done, in [0, 1]. */
  onProgress?: (fraction: number) => void;
}

function abortedError(): DeepgenError {
  return new DeepgenError("E_ABORTED", "operation aborted");
}

/**
 * Runs a native async job. `start` receives the cancel flag (an Int32Array the kernel polls)
 * and a progress callback, and returns the addon's promise. Errors keep the caller's stack.
 */
export async function runNativeJob<T>(
  opts: JobOptions | undefined,
  start: (cancel: Int32Array, onProgress: ((f: number) => void) | undefined) => Promise<T>,
): Promise<T> {
  // The caller's stack for a failure's message: captured now, formatted only if the job fails
  // (formatting every job's stack would cost more than a small job).
  const callSite = new Error();
  const signal = opts?.signal;
  if (signal?.aborted) throw abortedError();
  const cancel = new Int32Array(1);
  const raise = (): void => {
    Atomics.store(cancel, 0, 1);
  };
  signal?.addEventListener("abort", raise, { once: true });
  // A throwing user callback cancels the job and becomes its error, instead of surfacing
  // inside native code.
  let callbackError: unknown;
  let lastProgress = 0;
  const userProgress = opts?.onProgress;
  const onProgress =
    userProgress === undefined
      ? undefined
      : (f: number): void => {
          if (callbackError !== undefined) return;
          lastProgress = f;
          try {
            userProgress(f);
          } catch (e) {
            callbackError = e;
            raise();
          }
        };
  try {
    const result = await start(cancel, onProgress);
    // Native reports are throttled and may coalesce; a finished job always ends at 1.
    if (lastProgress < 1) onProgress?.(1);
    if (callbackError !== undefined) throw callbackError;
    return result;
  } catch (e) {
    if (callbackError !== undefined) throw callbackError;
    throw fromNativeError(e, callSite.stack);
  } finally {
    signal?.removeEventListener("abort", raise);
  }
}

/**
 * The async form of a JS twin: runs `work(begin, end)` over [0, total) in slices, yielding to
 * the event loop between slices so timers and I/O keep running, and honouring the signal.
 */
export async function runChunkedJs(
  total: number,
  slice: number,
  opts: JobOptions | undefined,
  work: (begin: number, end: number) => void,
): Promise<void> {
  const signal = opts?.signal;
  for (let begin = 0; begin < total || begin === 0; begin += slice) {
    if (signal?.aborted) throw abortedError();
    const end = Math.min(total, begin + slice);
    work(begin, end);
    opts?.onProgress?.(total === 0 ? 1 : end / total);
    if (end >= total) break;
    await yieldToEventLoop();
  }
}
