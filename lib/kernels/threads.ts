/** The native thread pool's size: DEEPGEN_THREADS at start-up, else the number of cores. */
import { callNative } from "./native.js";
import { checkInteger } from "../core/check.js";

export function getThreads(): number {
  return callNative((a) => a.threadLimit());
}

/** Sets how many threads native kernels use from now on (1..1024). */
export function setThreads(n: number): void {
  checkInteger("threads", n, 1, 1024);
  callNative((a) => a.setThreadLimit(n));
}
