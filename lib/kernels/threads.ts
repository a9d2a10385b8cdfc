/** The native thread pool's size: DEEPGEN_THREADS at start-up, else the number of cores. */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { callNative } from "./native.js";

/** The most threads the pool takes (the native side clamps to the same bound). */
const MAX_THREADS = 1024;
let validThreadsEnv: string | undefined;

/**
 * Throws E_ARG when DEEPGEN_THREADS is set to anything but an integer in [1, 1024]: the native
 * pool would otherwise fall back to the core count silently, and a typo should not change
 * how a benchmark or a server runs without a word.
 */
export function checkThreadsEnv(): void {
  const env = process.env["DEEPGEN_THREADS"];
  // Every model call selects its kernels through here: a value already found good is not parsed again.
  if (env === undefined || env === "" || env === validThreadsEnv) return;
  const n = /^\d+$/.test(env.trim()) ? Number(env.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new DeepgenError("E_ARG", `DEEPGEN_THREADS must be an integer in [1, ${MAX_THREADS}], got '${env}'`);
  }
  validThreadsEnv = env;
}

export function getThreads(): number {
  checkThreadsEnv();
  return callNative((a) => a.threadLimit());
}

/** Sets how many threads native kernels use from now on (1..1024). */
export function setThreads(n: number): void {
  checkInteger("threads", n, 1, MAX_THREADS);
  callNative((a) => a.setThreadLimit(n));
}
