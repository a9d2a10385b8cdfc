/**
 * Kernel group "rnade": the fused RNADE kernels (native/kernels/cpu/rnade.h, js/rnade.ts):
 * log-density, gradients and sampling of a whole batch in one call each.
 */
import { checkFloat32Array, checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { type Seed, seedToKey } from "../../core/philox.js";
import type { RnadeGradArgs, RnadeModelArgs } from "../addon-types.js";
import { noCudaKernel } from "../cuda.js";
import { type JobOptions, runChunkedJs, runNativeJob } from "../job.js";
import { type RnadeArrays, type RnadeGradArrays, rnadeBackward, rnadeLogProb, rnadeSample } from "../js/rnade.js";
import { callNative, nativeAddon } from "../native.js";
import { checkRowStreams, rowStreamSlice } from "./row-streams.js";
import { checkOutputsApart } from "../validate.js";

export type RnadeModelArrays = RnadeArrays<Float32Array>;
export type RnadeGradients = RnadeGradArrays<Float32Array>;

export interface RnadeSampleOptions {
  n: number;
  seed: Seed;
  stream?: number;
  sampleOffset?: number;
  /**
   * Per-row keys and indices [n, 4] (ops/row-streams.ts); when given, seed and sampleOffset
   * are not used: a coalesced batch of requests with their own seeds.
   */
  rowStreams?: Uint32Array;
}

export interface RnadeKernels {
  /** logp[i] = log p(x_i) (a density, nats); x [n, D] real values. */
  rnadeLogProb(m: RnadeModelArrays, x: Float32Array, n: number, logp: Float32Array): void;
  rnadeLogProbAsync(m: RnadeModelArrays, x: Float32Array, n: number, logp: Float32Array, opts?: JobOptions): Promise<void>;
  /** Gradients of scale * sum_i -log p(x_i), overwriting g; logp (optional) gets log p(x_i). */
  rnadeBackward(m: RnadeModelArrays, x: Float32Array, n: number, scale: number, logp: Float32Array | null, g: RnadeGradients): void;
  rnadeBackwardAsync(
    m: RnadeModelArrays,
    x: Float32Array,
    n: number,
    scale: number,
    logp: Float32Array | null,
    g: RnadeGradients,
    opts?: JobOptions,
  ): Promise<void>;
  /** Draws n vectors into x [n, D]. */
  rnadeSample(m: RnadeModelArrays, o: RnadeSampleOptions, x: Float32Array): void;
  rnadeSampleAsync(m: RnadeModelArrays, o: RnadeSampleOptions, x: Float32Array, opts?: JobOptions): Promise<void>;
}

const PARAMS = ["wt", "c", "va", "vm", "vs", "ba", "bm", "bs"] as const;

function sizes(m: { d: number; h: number; k: number }): Record<(typeof PARAMS)[number], number> {
  const { d, h, k } = m;
  return { wt: d * h, c: h, va: d * k * h, vm: d * k * h, vs: d * k * h, ba: d * k, bm: d * k, bs: d * k };
}

function need(name: string, arr: Float32Array, len: number): void {
  checkFloat32Array(name, arr);
  if (arr.length < len) throw new DeepgenError("E_SHAPE", `rnade: ${name} has ${arr.length} elements, needs ${len}`);
}

export function checkRnadeModel(m: RnadeModelArrays): void {
  checkInteger("rnade D", m.d, 1, 1 << 24);
  checkInteger("rnade H", m.h, 1, 1 << 24);
  checkInteger("rnade K", m.k, 1, 4096);
  const sz = sizes(m);
  for (const name of PARAMS) need(name, m[name], sz[name]);
}

function checkBatch(m: RnadeModelArrays, x: Float32Array, n: number): void {
  checkRnadeModel(m);
  checkInteger("n", n, 0, 2 ** 31);
  need("x", x, n * m.d);
}

function modelInputs(m: RnadeModelArrays): Array<readonly [string, Float32Array]> {
  return PARAMS.map((name) => [name, m[name]] as const);
}

function checkGrads(m: RnadeModelArrays, g: RnadeGradients, scale: number, logp: Float32Array | null, n: number, x: Float32Array): void {
  if (!Number.isFinite(scale)) throw new DeepgenError("E_ARG", "rnade: scale must be a finite number");
  const sz = sizes(m);
  for (const name of PARAMS) need(`gradient ${name}`, g[name], sz[name]);
  if (logp !== null) need("logp", logp, n);
  const outputs = PARAMS.map((name) => [`gradient ${name}`, g[name]] as const);
  checkOutputsApart("rnadeBackward", [...outputs, ["logp", logp]], [...modelInputs(m), ["x", x]]);
}

function checkLogp(m: RnadeModelArrays, x: Float32Array, n: number, logp: Float32Array): void {
  need("logp", logp, n);
  checkOutputsApart("rnadeLogProb", [["logp", logp]], [...modelInputs(m), ["x", x]]);
}

function checkSample(m: RnadeModelArrays, o: RnadeSampleOptions, x: Float32Array) {
  checkRnadeModel(m);
  const n = checkInteger("n", o.n, 0, 2 ** 31);
  need("x", x, n * m.d);
  checkOutputsApart("rnadeSample", [["x", x]], modelInputs(m));
  return {
    n,
    ...seedToKey(o.seed),
    stream: checkInteger("stream", o.stream ?? 0, 0, 0xffffffff),
    offset: checkInteger("sampleOffset", o.sampleOffset ?? 0, 0, Number.MAX_SAFE_INTEGER - n),
    rows: checkRowStreams("rnadeSample", o.rowStreams, n),
  };
}

function modelArgs(m: RnadeModelArrays): RnadeModelArgs {
  return [m.d, m.h, m.k, m.wt, m.c, m.va, m.vm, m.vs, m.ba, m.bm, m.bs];
}

function gradArgs(g: RnadeGradients): RnadeGradArgs {
  return [g.wt, g.c, g.va, g.vm, g.vs, g.ba, g.bm, g.bs];
}

const JS_SLICE = 4;

export const jsRnade: RnadeKernels = {
  rnadeLogProb(m, x, n, logp) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    rnadeLogProb(m, x, n, logp);
  },
  async rnadeLogProbAsync(m, x, n, logp, opts) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    await runChunkedJs(n, JS_SLICE, opts, (b, e) => rnadeLogProb(m, x.subarray(b * m.d), e - b, logp.subarray(b)));
  },
  rnadeBackward(m, x, n, scale, logp, g) {
    checkBatch(m, x, n);
    checkGrads(m, g, scale, logp, n, x);
    rnadeBackward(m, x, n, scale, logp, g);
  },
  async rnadeBackwardAsync(m, x, n, scale, logp, g, opts) {
    checkBatch(m, x, n);
    checkGrads(m, g, scale, logp, n, x);
    await runChunkedJs(n, JS_SLICE, opts, (b, e) =>
      rnadeBackward(m, x.subarray(b * m.d), e - b, scale, logp ? logp.subarray(b) : null, g, b > 0),
    );
  },
  rnadeSample(m, o, x) {
    const s = checkSample(m, o, x);
    rnadeSample(m, { n: s.n, sampleOffset: s.offset, key0: s.key0, key1: s.key1, stream: s.stream, rowStreams: s.rows }, x);
  },
  async rnadeSampleAsync(m, o, x, opts) {
    const s = checkSample(m, o, x);
    await runChunkedJs(s.n, JS_SLICE, opts, (b, e) =>
      rnadeSample(
        m,
        { n: e - b, sampleOffset: s.offset + b, key0: s.key0, key1: s.key1, stream: s.stream, rowStreams: rowStreamSlice(s.rows, b, e) },
        x.subarray(b * m.d),
      ),
    );
  },
};

export const nativeRnade: RnadeKernels = {
  rnadeLogProb(m, x, n, logp) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    callNative((a) => a.rnadeLogProb(...modelArgs(m), x, n, logp));
  },
  rnadeLogProbAsync(m, x, n, logp, opts) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) => addon.rnadeLogProbAsync(...modelArgs(m), x, n, logp, cancel, onProgress));
  },
  rnadeBackward(m, x, n, scale, logp, g) {
    checkBatch(m, x, n);
    checkGrads(m, g, scale, logp, n, x);
    callNative((a) => a.rnadeBackward(...modelArgs(m), x, n, scale, logp, ...gradArgs(g)));
  },
  rnadeBackwardAsync(m, x, n, scale, logp, g, opts) {
    checkBatch(m, x, n);
    checkGrads(m, g, scale, logp, n, x);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.rnadeBackwardAsync(...modelArgs(m), x, n, scale, logp, ...gradArgs(g), cancel, onProgress),
    );
  },
  rnadeSample(m, o, x) {
    const s = checkSample(m, o, x);
    callNative((a) =>
      a.rnadeSample(...modelArgs(m), s.n, s.offset % 2 ** 32, Math.floor(s.offset / 2 ** 32), s.key0, s.key1, s.stream, x, s.rows),
    );
  },
  rnadeSampleAsync(m, o, x, opts) {
    const s = checkSample(m, o, x);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.rnadeSampleAsync(
        ...modelArgs(m),
        s.n,
        s.offset % 2 ** 32,
        Math.floor(s.offset / 2 ** 32),
        s.key0,
        s.key1,
        s.stream,
        x,
        s.rows,
        cancel,
        onProgress,
      ),
    );
  },
};

export const cudaRnade: RnadeKernels = noCudaKernel<RnadeKernels>("rnade", [
  "rnadeLogProb",
  "rnadeLogProbAsync",
  "rnadeBackward",
  "rnadeBackwardAsync",
  "rnadeSample",
  "rnadeSampleAsync",
]);
