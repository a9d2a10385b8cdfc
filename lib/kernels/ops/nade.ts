/**
 * Kernel group "nade": the fused NADE kernels (native/kernels/cpu/nade.h, js/nade.ts).
 * One call covers a whole batch: log-likelihood, sampling (all D steps) and gradients.
 */
import { checkFloat32Array, checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { type Seed, seedToKey } from "../../core/philox.js";
import { cudaAddon } from "../cuda.js";
import { type JobOptions, runChunkedJs, runNativeJob } from "../job.js";
import { type NadeArrays, nadeBackward as jsBackward, nadeLogProb as jsLogProb, nadeSample as jsSample } from "../js/nade.js";
import type { CudaNadeHandle } from "../addon-types.js";
import { callNative, nativeAddon } from "../native.js";
import { checkOutputsApart } from "../validate.js";
import { checkRowStreams, rowStreamSlice } from "./row-streams.js";

/** NADE parameters in kernel layout: wt and v are [D, H]; order is a permutation of 0..D-1. */
export type NadeModelArrays = NadeArrays<Float32Array>;

export interface NadeGradients {
  dwt: Float32Array;
  dc: Float32Array;
  dv: Float32Array;
  db: Float32Array;
}

export interface NadeSampleOptions {
  /** Number of vectors to draw (rows of x). */
  n: number;
  seed: Seed;
  /** Philox stream; default 0. */
  stream?: number;
  /** Global index of the first sample, so that batches of one run draw distinct samples. */
  sampleOffset?: number;
  /** Leading steps of the ordering already given in x (completion); default 0. */
  known?: number;
  /**
   * Per-row keys and indices [n, 4] (ops/row-streams.ts); when given, seed and sampleOffset
   * are not used: a coalesced batch of requests (samples or completions) with their own seeds.
   */
  rowStreams?: Uint32Array;
}

export interface NadeKernels {
  /** logp[i] = log p(x_i) in nats; x [n, D] of 0/1 values. */
  nadeLogProb(m: NadeModelArrays, x: Float32Array, n: number, logp: Float32Array): void;
  nadeLogProbAsync(m: NadeModelArrays, x: Float32Array, n: number, logp: Float32Array, opts?: JobOptions): Promise<void>;
  /** Draws into x [n, D]; probs [n, D] (optional) receives each p(x_o = 1 | x_<o). */
  nadeSample(m: NadeModelArrays, o: NadeSampleOptions, x: Float32Array, probs?: Float32Array): void;
  nadeSampleAsync(m: NadeModelArrays, o: NadeSampleOptions, x: Float32Array, probs?: Float32Array, opts?: JobOptions): Promise<void>;
  /** Gradients of scale * sum_i -log p(x_i), overwriting g; logp (optional) gets log p(x_i). */
  nadeBackward(m: NadeModelArrays, x: Float32Array, n: number, scale: number, logp: Float32Array | null, g: NadeGradients): void;
  nadeBackwardAsync(
    m: NadeModelArrays,
    x: Float32Array,
    n: number,
    scale: number,
    logp: Float32Array | null,
    g: NadeGradients,
    opts?: JobOptions,
  ): Promise<void>;
}

function need(name: string, arr: Float32Array, len: number): void {
  checkFloat32Array(name, arr);
  if (arr.length < len) throw new DeepgenError("E_SHAPE", `nade: ${name} has ${arr.length} elements, needs ${len}`);
}

export function checkNadeModel(m: NadeModelArrays): void {
  const d = checkInteger("nade D", m.d, 1, 2 ** 31);
  const h = checkInteger("nade H", m.h, 1, 2 ** 31);
  need("wt", m.wt, d * h);
  need("c", m.c, h);
  need("v", m.v, d * h);
  need("b", m.b, d);
  if (!(m.order instanceof Int32Array) || m.order.length < d)
    throw new DeepgenError("E_ARG", "nade: order must be an Int32Array of length D");
  const seen = new Uint8Array(d);
  for (let i = 0; i < d; i++) {
    const o = m.order[i]!;
    if (o < 0 || o >= d || seen[o]) throw new DeepgenError("E_ARG", "nade: order must be a permutation of 0..D-1");
    seen[o] = 1;
  }
}

function checkLogp(m: NadeModelArrays, x: Float32Array, n: number, logp: Float32Array): void {
  need("logp", logp, n);
  checkOutputsApart("nadeLogProb", [["logp", logp]], [...params(m), ["x", x]]);
}

function checkBatch(m: NadeModelArrays, x: Float32Array, n: number): void {
  checkNadeModel(m);
  checkInteger("n", n, 0, 2 ** 31);
  need("x", x, n * m.d);
}

interface SampleArgs {
  n: number;
  offset: number;
  key0: number;
  key1: number;
  stream: number;
  known: number;
  rows: Uint32Array | null;
}

function checkSample(m: NadeModelArrays, o: NadeSampleOptions, x: Float32Array, probs?: Float32Array): SampleArgs {
  checkNadeModel(m);
  const a = checkSampleShape(m.d, o, x, probs);
  // x is read (the known prefix) and written in place; it and probs must not alias the model.
  checkOutputsApart(
    "nadeSample",
    [
      ["x", x],
      ["probs", probs ?? null],
    ],
    params(m),
  );
  return a;
}

function checkSampleShape(d: number, o: NadeSampleOptions, x: Float32Array, probs?: Float32Array): SampleArgs {
  const n = checkInteger("n", o.n, 0, 2 ** 31);
  const { key0, key1 } = seedToKey(o.seed);
  const stream = checkInteger("stream", o.stream ?? 0, 0, 0xffffffff);
  // Sample indices must stay exact integers in JS (the twin computes them in doubles).
  const offset = checkInteger("sampleOffset", o.sampleOffset ?? 0, 0, Number.MAX_SAFE_INTEGER - n);
  const known = checkInteger("known", o.known ?? 0, 0, d);
  need("x", x, n * d);
  if (probs !== undefined) need("probs", probs, n * d);
  checkOutputsApart(
    "nadeSample",
    [
      ["x", x],
      ["probs", probs ?? null],
    ],
    [],
  );
  const rows = checkRowStreams("nadeSample", o.rowStreams, n);
  return { n, offset, key0, key1, stream, known, rows };
}

function params(m: NadeModelArrays): Array<readonly [string, Float32Array]> {
  return [
    ["wt", m.wt],
    ["c", m.c],
    ["v", m.v],
    ["b", m.b],
  ];
}

function checkGrads(m: NadeModelArrays, g: NadeGradients, logp: Float32Array | null, n: number, x: Float32Array): void {
  need("dwt", g.dwt, m.d * m.h);
  need("dc", g.dc, m.h);
  need("dv", g.dv, m.d * m.h);
  need("db", g.db, m.d);
  if (logp !== null) need("logp", logp, n);
  checkOutputsApart(
    "nadeBackward",
    [
      ["dwt", g.dwt],
      ["dc", g.dc],
      ["dv", g.dv],
      ["db", g.db],
      ["logp", logp],
    ],
    [...params(m), ["x", x]],
  );
}

function checkScale(scale: number): void {
  if (!Number.isFinite(scale)) throw new DeepgenError("E_ARG", "nade: scale must be a finite number");
}

const JS_SLICE = 16; // samples per slice of the async JS twins

export const jsNade: NadeKernels = {
  nadeLogProb(m, x, n, logp) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    jsLogProb(m, x, n, logp);
  },
  async nadeLogProbAsync(m, x, n, logp, opts) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    await runChunkedJs(n, JS_SLICE, opts, (b, e) => jsLogProb(m, x.subarray(b * m.d), e - b, logp.subarray(b)));
  },
  nadeSample(m, o, x, probs) {
    const a = checkSample(m, o, x, probs);
    jsSample(
      m,
      { n: a.n, sampleOffset: a.offset, key0: a.key0, key1: a.key1, stream: a.stream, known: a.known, rowStreams: a.rows },
      x,
      probs ?? null,
    );
  },
  async nadeSampleAsync(m, o, x, probs, opts) {
    const a = checkSample(m, o, x, probs);
    await runChunkedJs(a.n, JS_SLICE, opts, (b, e) =>
      jsSample(
        m,
        {
          n: e - b,
          sampleOffset: a.offset + b,
          key0: a.key0,
          key1: a.key1,
          stream: a.stream,
          known: a.known,
          rowStreams: rowStreamSlice(a.rows, b, e),
        },
        x.subarray(b * m.d),
        probs ? probs.subarray(b * m.d) : null,
      ),
    );
  },
  nadeBackward(m, x, n, scale, logp, g) {
    checkBatch(m, x, n);
    checkScale(scale);
    checkGrads(m, g, logp, n, x);
    jsBackward(m, x, n, scale, logp, g);
  },
  async nadeBackwardAsync(m, x, n, scale, logp, g, opts) {
    checkBatch(m, x, n);
    checkScale(scale);
    checkGrads(m, g, logp, n, x);
    await runChunkedJs(n, JS_SLICE, opts, (b, e) =>
      jsBackward(m, x.subarray(b * m.d), e - b, scale, logp ? logp.subarray(b) : null, g, b > 0),
    );
  },
};

export const nativeNade: NadeKernels = {
  nadeLogProb(m, x, n, logp) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    callNative((a) => a.nadeLogProb(m.d, m.h, m.wt, m.c, m.v, m.b, m.order, x, n, logp));
  },
  nadeLogProbAsync(m, x, n, logp, opts) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.nadeLogProbAsync(m.d, m.h, m.wt, m.c, m.v, m.b, m.order, x, n, logp, cancel, onProgress),
    );
  },
  nadeSample(m, o, x, probs) {
    const s = checkSample(m, o, x, probs);
    callNative((a) =>
      a.nadeSample(
        m.d,
        m.h,
        m.wt,
        m.c,
        m.v,
        m.b,
        m.order,
        s.n,
        s.offset % 2 ** 32,
        Math.floor(s.offset / 2 ** 32),
        s.key0,
        s.key1,
        s.stream,
        s.known,
        x,
        probs ?? null,
        s.rows,
      ),
    );
  },
  nadeSampleAsync(m, o, x, probs, opts) {
    const s = checkSample(m, o, x, probs);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.nadeSampleAsync(
        m.d,
        m.h,
        m.wt,
        m.c,
        m.v,
        m.b,
        m.order,
        s.n,
        s.offset % 2 ** 32,
        Math.floor(s.offset / 2 ** 32),
        s.key0,
        s.key1,
        s.stream,
        s.known,
        x,
        probs ?? null,
        s.rows,
        cancel,
        onProgress,
      ),
    );
  },
  nadeBackward(m, x, n, scale, logp, g) {
    checkBatch(m, x, n);
    checkScale(scale);
    checkGrads(m, g, logp, n, x);
    callNative((a) => a.nadeBackward(m.d, m.h, m.wt, m.c, m.v, m.b, m.order, x, n, scale, logp, g.dwt, g.dc, g.dv, g.db));
  },
  nadeBackwardAsync(m, x, n, scale, logp, g, opts) {
    checkBatch(m, x, n);
    checkScale(scale);
    checkGrads(m, g, logp, n, x);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.nadeBackwardAsync(m.d, m.h, m.wt, m.c, m.v, m.b, m.order, x, n, scale, logp, g.dwt, g.dc, g.dv, g.db, cancel, onProgress),
    );
  },
};

/**
 * A NADE whose weights live on the GPU (native/kernels/cuda/nade.cu): uploaded once by
 * `upload`, then logProb / sample copy only x, logp and probs; `dispose()` frees the device
 * memory now (the garbage collector does it otherwise). Results follow the CPU kernels: the
 * same Philox counters, so the same seed gives the same samples (see test/native/cuda).
 * Throws E_BACKEND when the addon was built without CUDA or no device is usable.
 */
export class CudaNadeModel {
  private handle: CudaNadeHandle | null;

  private constructor(
    handle: CudaNadeHandle,
    readonly d: number,
    readonly h: number,
  ) {
    this.handle = handle;
  }

  static upload(m: NadeModelArrays): CudaNadeModel {
    checkNadeModel(m);
    const handle = callNative(() => cudaAddon().cudaNadeUpload(m.d, m.h, m.wt, m.c, m.v, m.b, m.order));
    return new CudaNadeModel(handle, m.d, m.h);
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  /** logp[i] = log p(x_i) in nats; x [n, D] of 0/1 values. */
  logProb(x: Float32Array, n: number, logp: Float32Array): void {
    const handle = this.live();
    checkInteger("n", n, 0, 2 ** 31);
    need("x", x, n * this.d);
    need("logp", logp, n);
    checkOutputsApart("nadeLogProb", [["logp", logp]], [["x", x]]);
    callNative((a) => a.cudaNadeLogProb(handle, x, n, logp));
  }

  /** Draws into x [n, D] (keeping its first `known` steps); probs [n, D] gets each p(x_o = 1 | x_<o). */
  sample(o: NadeSampleOptions, x: Float32Array, probs?: Float32Array): void {
    const handle = this.live();
    const s = checkSampleShape(this.d, o, x, probs);
    if (s.rows !== null)
      throw new DeepgenError("E_BACKEND", "CudaNadeModel.sample: per-row streams are drawn on the CPU (cudaNade falls back)");
    callNative((a) =>
      a.cudaNadeSample(
        handle,
        s.n,
        s.offset % 2 ** 32,
        Math.floor(s.offset / 2 ** 32),
        s.key0,
        s.key1,
        s.stream,
        s.known,
        x,
        probs ?? null,
      ),
    );
  }

  /**
   * Gradients of scale * sum_i -log p(x_i) with respect to the uploaded weights, written to g
   * (host arrays); logp (optional) gets log p(x_i).
   */
  backward(x: Float32Array, n: number, scale: number, logp: Float32Array | null, g: NadeGradients): void {
    const handle = this.live();
    checkInteger("n", n, 0, 2 ** 31);
    need("x", x, n * this.d);
    checkScale(scale);
    need("dwt", g.dwt, this.d * this.h);
    need("dc", g.dc, this.h);
    need("dv", g.dv, this.d * this.h);
    need("db", g.db, this.d);
    if (logp !== null) need("logp", logp, n);
    checkOutputsApart(
      "nadeBackward",
      [
        ["dwt", g.dwt],
        ["dc", g.dc],
        ["dv", g.dv],
        ["db", g.db],
        ["logp", logp],
      ],
      [["x", x]],
    );
    callNative((a) => a.cudaNadeBackward(handle, x, n, scale, logp, g.dwt, g.dc, g.dv, g.db));
  }

  dispose(): void {
    if (this.handle === null) return;
    const handle = this.handle;
    this.handle = null;
    callNative((a) => a.cudaNadeRelease(handle));
  }

  private live(): CudaNadeHandle {
    if (this.handle === null) throw new DeepgenError("E_ARG", "CudaNadeModel: used after dispose()");
    return this.handle;
  }
}

type NadeInference = Pick<NadeKernels, "nadeLogProb" | "nadeLogProbAsync" | "nadeSample" | "nadeSampleAsync">;

/**
 * The inference calls of NadeKernels on a device-resident model: the `m` argument is ignored
 * (the weights are those `model()` uploaded). Used by the Nade class for backend 'cuda'.
 */
export function residentCudaNade(model: () => CudaNadeModel): NadeInference {
  return {
    nadeLogProb: (_m, x, n, logp) => model().logProb(x, n, logp),
    async nadeLogProbAsync(_m, x, n, logp, opts) {
      if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
      model().logProb(x, n, logp);
      opts?.onProgress?.(1);
    },
    // Per-row streams: on the CPU with the host weights (see cudaNade.nadeSample).
    nadeSample: (m, o, x, probs) => (o.rowStreams !== undefined ? nativeNade.nadeSample(m, o, x, probs) : model().sample(o, x, probs)),
    async nadeSampleAsync(m, o, x, probs, opts) {
      if (o.rowStreams !== undefined) return nativeNade.nadeSampleAsync(m, o, x, probs, opts);
      if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
      model().sample(o, x, probs);
      opts?.onProgress?.(1);
    },
  };
}

/** Uploads m for one call (the kernel interface passes host weights every time). */
function withCudaModel(m: NadeModelArrays, fn: (g: CudaNadeModel) => void): void {
  const g = CudaNadeModel.upload(m);
  try {
    fn(g);
  } finally {
    g.dispose();
  }
}

// The async variants run the launches synchronously behind the promise (as cudaRandom does)
// until device jobs with cancellation exist. The backward uploads the weights per call (they
// change at every training step).
export const cudaNade: NadeKernels = {
  nadeBackward(m, x, n, scale, logp, g) {
    checkBatch(m, x, n);
    checkScale(scale);
    checkGrads(m, g, logp, n, x);
    withCudaModel(m, (gpu) => gpu.backward(x, n, scale, logp, g));
  },
  async nadeBackwardAsync(m, x, n, scale, logp, g, opts) {
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    cudaNade.nadeBackward(m, x, n, scale, logp, g);
    opts?.onProgress?.(1);
  },
  nadeLogProb(m, x, n, logp) {
    checkBatch(m, x, n);
    checkLogp(m, x, n, logp);
    withCudaModel(m, (g) => g.logProb(x, n, logp));
  },
  async nadeLogProbAsync(m, x, n, logp, opts) {
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    cudaNade.nadeLogProb(m, x, n, logp);
    opts?.onProgress?.(1);
  },
  // Per-row streams (coalesced requests) run on the CPU sampler: the device sampler takes one
  // key per launch, and a per-row key table on the device is a kernel change that no machine
  // here can test. The CPU draws from the same counters.
  nadeSample(m, o, x, probs) {
    if (o.rowStreams !== undefined) return nativeNade.nadeSample(m, o, x, probs);
    checkSample(m, o, x, probs);
    withCudaModel(m, (g) => g.sample(o, x, probs));
  },
  async nadeSampleAsync(m, o, x, probs, opts) {
    if (o.rowStreams !== undefined) return nativeNade.nadeSampleAsync(m, o, x, probs, opts);
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    cudaNade.nadeSample(m, o, x, probs);
    opts?.onProgress?.(1);
  },
};
