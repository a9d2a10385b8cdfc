/**
 * The machine-peak probe: runs independent FMA chains (native: the widest FMA the CPU runs,
 * AVX-512 or AVX2) and reports GFLOP/s. Benchmarks divide by this number to say how close a kernel gets to
 * the hardware. The JS twin (js/fma-probe.ts) measures what plain JS reaches.
 */
import { performance } from "node:perf_hooks";

import { checkInteger } from "../core/check.js";
import { FMA_PROBE_LANES, fmaProbe as jsFmaProbe } from "./js/fma-probe.js";
import { type JobOptions, runNativeJob } from "./job.js";
import { callNative, nativeAddon } from "./native.js";

export interface FmaProbeOptions extends JobOptions {
  /** Threads to spread the chunks over (native only); default: the pool's limit. */
  threads?: number;
}

/** Runs `chunks` x FMA_PROBE_LANES chains for `iters` steps; returns the accumulator sum. */
export function fmaProbeSync(iters: number, chunks: number, backend: "native" | "js" = "native", threads = 0): number {
  checkInteger("iters", iters, 0);
  checkInteger("chunks", chunks, 1, 4096);
  checkInteger("threads", threads, 0, 1024);
  return backend === "js" ? jsFmaProbe(iters, chunks) : callNative((a) => a.fmaProbe(iters, chunks, threads));
}

/** Async native probe: runs on the pool, off the event loop; abortable. */
export function fmaProbe(iters: number, chunks: number, opts: FmaProbeOptions = {}): Promise<number> {
  checkInteger("iters", iters, 0);
  checkInteger("chunks", chunks, 1, 4096);
  const threads = checkInteger("threads", opts.threads ?? 0, 0, 1024);
  const addon = nativeAddon();
  return runNativeJob(opts, (cancel, onProgress) => addon.fmaProbeAsync(iters, chunks, threads, cancel, onProgress));
}

export interface PeakResult {
  backend: "native" | "js";
  /** The instructions the probe ran: the native kernel path ("avx512", "avx2+fma", ...) or "js". */
  simd: string;
  threads: number;
  gflops: number;
  /** Seconds of the best timed run. */
  seconds: number;
  iters: number;
}

/**
 * Measures peak FLOP/s with `threads` threads (one chunk per thread): doubles the iteration
 * count until a run takes `minSeconds`, then keeps the best of `repeats` runs.
 */
export function measureFmaPeak(
  opts: { backend?: "native" | "js"; threads?: number; minSeconds?: number; repeats?: number } = {},
): PeakResult {
  const backend = opts.backend ?? "native";
  const threads = backend === "js" ? 1 : checkInteger("threads", opts.threads ?? callNative((a) => a.threadLimit()), 1, 1024);
  const minSeconds = opts.minSeconds ?? 0.2;
  const repeats = opts.repeats ?? 3;
  const time = (iters: number): number => {
    const t0 = performance.now();
    fmaProbeSync(iters, threads, backend, threads);
    return (performance.now() - t0) / 1000;
  };
  let iters = backend === "js" ? 1000 : 100_000;
  while (time(iters) < minSeconds) iters *= 2;
  let best = Infinity;
  for (let r = 0; r < repeats; r++) best = Math.min(best, time(iters));
  const flops = 2 * FMA_PROBE_LANES * iters * threads;
  const simd = backend === "js" ? "js" : callNative((a) => a.info().cpu.simdPath);
  return { backend, simd, threads, gflops: flops / best / 1e9, seconds: best, iters };
}
