/**
 * Kernel group "pixelrnn": the whole PixelRNN network (Row LSTM or Diagonal BiLSTM) per call
 * (native/kernels/cpu/pixelrnn.h, js/pixelrnn.ts): log-likelihood, gradients (BPTT) and
 * sampling of a whole batch, each ONE native call. On CUDA (native/kernels/cuda/pixelrnn*.cu):
 * log-likelihood and sampling on a device-resident model (CudaPixelRnnModel); no backward yet.
 */
import { checkFloat32Array, checkInteger, checkOneOf } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { type Seed, seedToKey } from "../../core/philox.js";
import type { CudaPixelRnnHandle } from "../addon-types.js";
import { cudaAddon } from "../cuda.js";
import { type JobOptions, runChunkedJs, runNativeJob } from "../job.js";
import {
  type PixelRnnSpec,
  pixelRnnBackward as jsBackward,
  pixelRnnLayout,
  pixelRnnLogProb as jsLogProb,
  pixelRnnSample as jsSample,
} from "../js/pixelrnn.js";
import { callNative, nativeAddon } from "../native.js";
import { checkOutputsApart } from "../validate.js";
import { checkRowStreams, rowStreamSlice } from "./row-streams.js";

export type { PixelRnnSpec } from "../js/pixelrnn.js";

export interface PixelRnnModelArrays {
  spec: PixelRnnSpec;
  /** All parameters, flat, in pixelRnnLayout(spec) order. */
  params: Float32Array;
}

export interface PixelRnnSampleOptions {
  n: number;
  seed: Seed;
  stream?: number;
  sampleOffset?: number;
  /** false: the naive reference sampler that reruns the network for every pixel; default true. */
  cached?: boolean;
  /**
   * Per-row keys and indices [n, 4] (ops/row-streams.ts); when given, seed and sampleOffset
   * are not used: a coalesced batch of requests with their own seeds.
   */
  rowStreams?: Uint32Array;
  /** > 0: complete images: the first `known` pixels (raster order) of each row of x are kept, the rest drawn. */
  known?: number;
}

export interface PixelRnnKernels {
  /** logp[i] = log p(x_i) in nats; x [n, rows*cols] of 0/1 values. */
  pixelRnnLogProb(m: PixelRnnModelArrays, x: Float32Array, n: number, logp: Float32Array): void;
  pixelRnnLogProbAsync(m: PixelRnnModelArrays, x: Float32Array, n: number, logp: Float32Array, opts?: JobOptions): Promise<void>;
  /** Gradients of scale * sum_i -log p(x_i), overwriting grads (the params layout); logp optional. */
  pixelRnnBackward(m: PixelRnnModelArrays, x: Float32Array, n: number, scale: number, logp: Float32Array | null, grads: Float32Array): void;
  pixelRnnBackwardAsync(
    m: PixelRnnModelArrays,
    x: Float32Array,
    n: number,
    scale: number,
    logp: Float32Array | null,
    grads: Float32Array,
    opts?: JobOptions,
  ): Promise<void>;
  /** Draws into x [n, D] in raster order; probs [n, D] (optional) receives each p(x = 1 | before). */
  pixelRnnSample(m: PixelRnnModelArrays, o: PixelRnnSampleOptions, x: Float32Array, probs?: Float32Array): void;
  pixelRnnSampleAsync(
    m: PixelRnnModelArrays,
    o: PixelRnnSampleOptions,
    x: Float32Array,
    probs?: Float32Array,
    opts?: JobOptions,
  ): Promise<void>;
}

const KIND_CODE = { rowlstm: 0, diagbilstm: 1 } as const;

function need(name: string, arr: Float32Array, len: number): void {
  checkFloat32Array(name, arr);
  if (arr.length < len) throw new DeepgenError("E_SHAPE", `pixelrnn: ${name} has ${arr.length} elements, needs ${len}`);
}

/** Validates the spec and the parameter array; returns the pixel count D. */
export function checkPixelRnnModel(m: PixelRnnModelArrays): number {
  const s = m.spec;
  checkOneOf("pixelrnn kind", s.kind, ["rowlstm", "diagbilstm"] as const);
  checkInteger("pixelrnn layers", s.layers, 1, 64);
  checkInteger("pixelrnn hidden", s.hidden, 1, 4096);
  checkInteger("pixelrnn rows", s.rows, 1, 4096);
  checkInteger("pixelrnn cols", s.cols, 1, 4096);
  if (s.rows * s.cols * s.hidden * 4 * 16 > 2 ** 34) throw new DeepgenError("E_ARG", "pixelrnn: image x hidden too large");
  need("params", m.params, pixelRnnLayout(s).total);
  return s.rows * s.cols;
}

function checkBatch(m: PixelRnnModelArrays, x: Float32Array, n: number): number {
  const d = checkPixelRnnModel(m);
  checkInteger("n", n, 0, 2 ** 31);
  need("x", x, n * d);
  return d;
}

function checkLogp(m: PixelRnnModelArrays, x: Float32Array, n: number, logp: Float32Array): void {
  checkBatch(m, x, n);
  need("logp", logp, n);
  checkOutputsApart(
    "pixelRnnLogProb",
    [["logp", logp]],
    [
      ["params", m.params],
      ["x", x],
    ],
  );
}

function checkBackward(
  m: PixelRnnModelArrays,
  x: Float32Array,
  n: number,
  scale: number,
  logp: Float32Array | null,
  grads: Float32Array,
): void {
  checkBatch(m, x, n);
  if (!Number.isFinite(scale)) throw new DeepgenError("E_ARG", "pixelrnn: scale must be a finite number");
  if (logp !== null) need("logp", logp, n);
  need("grads", grads, pixelRnnLayout(m.spec).total);
  checkOutputsApart(
    "pixelRnnBackward",
    [
      ["grads", grads],
      ["logp", logp],
    ],
    [
      ["params", m.params],
      ["x", x],
    ],
  );
}

interface SampleArgs {
  n: number;
  offset: number;
  key0: number;
  key1: number;
  stream: number;
  cached: boolean;
  rows: Uint32Array | null;
  known: number;
}

function checkSample(m: PixelRnnModelArrays, o: PixelRnnSampleOptions, x: Float32Array, probs?: Float32Array): SampleArgs {
  const a = checkSampleShape(checkPixelRnnModel(m), o, x, probs);
  checkOutputsApart(
    "pixelRnnSample",
    [
      ["x", x],
      ["probs", probs ?? null],
    ],
    [["params", m.params]],
  );
  return a;
}

/** The sampling options and outputs for images of d pixels (no model: CudaPixelRnnModel has it on the device). */
function checkSampleShape(d: number, o: PixelRnnSampleOptions, x: Float32Array, probs?: Float32Array): SampleArgs {
  const n = checkInteger("n", o.n, 0, 2 ** 31);
  const { key0, key1 } = seedToKey(o.seed);
  const stream = checkInteger("stream", o.stream ?? 0, 0, 0xffffffff);
  const offset = checkInteger("sampleOffset", o.sampleOffset ?? 0, 0, Number.MAX_SAFE_INTEGER - n);
  const cached = o.cached ?? true;
  if (typeof cached !== "boolean") throw new DeepgenError("E_ARG", "pixelrnn: cached must be a boolean");
  need("x", x, n * d);
  if (probs !== undefined) need("probs", probs, n * d);
  checkOutputsApart(
    "pixelRnnSample",
    [
      ["x", x],
      ["probs", probs ?? null],
    ],
    [],
  );
  const rows = checkRowStreams("pixelRnnSample", o.rowStreams, n);
  const known = checkInteger("known", o.known ?? 0, 0, d);
  return { n, offset, key0, key1, stream, cached, rows, known };
}

function modelArgs(m: PixelRnnModelArrays): [number, number, number, number, number, Float32Array] {
  const s = m.spec;
  return [KIND_CODE[s.kind], s.layers, s.hidden, s.rows, s.cols, m.params];
}

const JS_SLICE = 4; // images per slice of the async JS twins

export const jsPixelRnn: PixelRnnKernels = {
  pixelRnnLogProb(m, x, n, logp) {
    checkLogp(m, x, n, logp);
    jsLogProb(m.spec, m.params, x, n, logp);
  },
  async pixelRnnLogProbAsync(m, x, n, logp, opts) {
    checkLogp(m, x, n, logp);
    const d = m.spec.rows * m.spec.cols;
    await runChunkedJs(n, JS_SLICE, opts, (b, e) => jsLogProb(m.spec, m.params, x.subarray(b * d), e - b, logp.subarray(b)));
  },
  pixelRnnBackward(m, x, n, scale, logp, grads) {
    checkBackward(m, x, n, scale, logp, grads);
    jsBackward(m.spec, m.params, x, n, scale, logp, grads);
  },
  async pixelRnnBackwardAsync(m, x, n, scale, logp, grads, opts) {
    checkBackward(m, x, n, scale, logp, grads);
    const d = m.spec.rows * m.spec.cols;
    await runChunkedJs(n, JS_SLICE, opts, (b, e) =>
      jsBackward(m.spec, m.params, x.subarray(b * d), e - b, scale, logp ? logp.subarray(b) : null, grads, b > 0),
    );
  },
  pixelRnnSample(m, o, x, probs) {
    const a = checkSample(m, o, x, probs);
    jsSample(
      m.spec,
      m.params,
      {
        n: a.n,
        sampleOffset: a.offset,
        key0: a.key0,
        key1: a.key1,
        stream: a.stream,
        cached: a.cached,
        rowStreams: a.rows,
        known: a.known,
      },
      x,
      probs ?? null,
    );
  },
  async pixelRnnSampleAsync(m, o, x, probs, opts) {
    const a = checkSample(m, o, x, probs);
    const d = m.spec.rows * m.spec.cols;
    await runChunkedJs(a.n, 1, opts, (b, e) =>
      jsSample(
        m.spec,
        m.params,
        {
          n: e - b,
          sampleOffset: a.offset + b,
          key0: a.key0,
          key1: a.key1,
          stream: a.stream,
          cached: a.cached,
          rowStreams: rowStreamSlice(a.rows, b, e),
          known: a.known,
        },
        x.subarray(b * d),
        probs ? probs.subarray(b * d) : null,
      ),
    );
  },
};

export const nativePixelRnn: PixelRnnKernels = {
  pixelRnnLogProb(m, x, n, logp) {
    checkLogp(m, x, n, logp);
    callNative((a) => a.pixelRnnLogProb(...modelArgs(m), x, n, logp));
  },
  pixelRnnLogProbAsync(m, x, n, logp, opts) {
    checkLogp(m, x, n, logp);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) => addon.pixelRnnLogProbAsync(...modelArgs(m), x, n, logp, cancel, onProgress));
  },
  pixelRnnBackward(m, x, n, scale, logp, grads) {
    checkBackward(m, x, n, scale, logp, grads);
    callNative((a) => a.pixelRnnBackward(...modelArgs(m), x, n, scale, logp, grads));
  },
  pixelRnnBackwardAsync(m, x, n, scale, logp, grads, opts) {
    checkBackward(m, x, n, scale, logp, grads);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.pixelRnnBackwardAsync(...modelArgs(m), x, n, scale, logp, grads, cancel, onProgress),
    );
  },
  pixelRnnSample(m, o, x, probs) {
    const s = checkSample(m, o, x, probs);
    callNative((a) =>
      a.pixelRnnSample(
        ...modelArgs(m),
        s.n,
        s.offset % 2 ** 32,
        Math.floor(s.offset / 2 ** 32),
        s.key0,
        s.key1,
        s.stream,
        s.cached,
        x,
        probs ?? null,
        s.rows,
        s.known,
      ),
    );
  },
  pixelRnnSampleAsync(m, o, x, probs, opts) {
    const s = checkSample(m, o, x, probs);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.pixelRnnSampleAsync(
        ...modelArgs(m),
        s.n,
        s.offset % 2 ** 32,
        Math.floor(s.offset / 2 ** 32),
        s.key0,
        s.key1,
        s.stream,
        s.cached,
        x,
        probs ?? null,
        s.rows,
        s.known,
        cancel,
        onProgress,
      ),
    );
  },
};

/**
 * A PixelRNN whose parameters live on the GPU (native/kernels/cuda/pixelrnn.cu,
 * pixelrnn_sample.cu): uploaded once by `upload`, then logProb / sample copy only x, logp and
 * probs; `dispose()` frees the device memory now (the garbage collector does it otherwise).
 * Results follow the CPU kernels: logProb within 1e-4 relative, and sampling with the same
 * Philox counters, so the same seed gives the same images up to near ties (a uniform within
 * float rounding of its probability; see test/native/cuda/test_cuda_pixelrnn.cc). Sampling is
 * always the cached sampler (`cached: false` draws the same images on the CPU, so it is accepted
 * and ignored). Throws E_BACKEND when the addon was built without CUDA or no device is usable.
 */
export class CudaPixelRnnModel {
  private handle: CudaPixelRnnHandle | null;

  private constructor(
    handle: CudaPixelRnnHandle,
    readonly spec: PixelRnnSpec,
  ) {
    this.handle = handle;
  }

  static upload(m: PixelRnnModelArrays): CudaPixelRnnModel {
    checkPixelRnnModel(m);
    const handle = callNative(() => cudaAddon().cudaPixelRnnUpload(...modelArgs(m)));
    return new CudaPixelRnnModel(handle, { ...m.spec });
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  /** logp[i] = log p(x_i) in nats; x [n, rows*cols] of 0/1 values. */
  logProb(x: Float32Array, n: number, logp: Float32Array): void {
    const handle = this.live();
    const d = this.spec.rows * this.spec.cols;
    checkInteger("n", n, 0, 2 ** 31);
    need("x", x, n * d);
    need("logp", logp, n);
    checkOutputsApart("pixelRnnLogProb", [["logp", logp]], [["x", x]]);
    callNative((a) => a.cudaPixelRnnLogProb(handle, x, n, logp));
  }

  /** Draws into x [n, D] in raster order; probs [n, D] (optional) receives each p(x = 1 | before). */
  sample(o: PixelRnnSampleOptions, x: Float32Array, probs?: Float32Array): void {
    const handle = this.live();
    const s = checkSampleShape(this.spec.rows * this.spec.cols, o, x, probs);
    if (s.rows !== null || s.known > 0)
      throw new DeepgenError(
        "E_BACKEND",
        "CudaPixelRnnModel.sample: per-row streams and completions are drawn on the CPU (cudaPixelRnn falls back)",
      );
    callNative((a) =>
      a.cudaPixelRnnSample(handle, s.n, s.offset % 2 ** 32, Math.floor(s.offset / 2 ** 32), s.key0, s.key1, s.stream, x, probs ?? null),
    );
  }

  dispose(): void {
    if (this.handle === null) return;
    const handle = this.handle;
    this.handle = null;
    callNative((a) => a.cudaPixelRnnRelease(handle));
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private live(): CudaPixelRnnHandle {
    if (this.handle === null) throw new DeepgenError("E_ARG", "CudaPixelRnnModel: used after dispose()");
    return this.handle;
  }
}

/** Uploads m for one call (the kernel interface passes host weights every time). */
function withCudaModel(m: PixelRnnModelArrays, fn: (g: CudaPixelRnnModel) => void): void {
  const g = CudaPixelRnnModel.upload(m);
  try {
    fn(g);
  } finally {
    g.dispose();
  }
}

function noCudaBackward(): never {
  throw new DeepgenError("E_BACKEND", "pixelRnnBackward (pixelrnn) has no CUDA kernel yet; use backend 'native' for it");
}

// The async variants run the launches synchronously behind the promise (as cudaNade does)
// until device jobs with cancellation exist.
export const cudaPixelRnn: PixelRnnKernels = {
  pixelRnnLogProb(m, x, n, logp) {
    checkLogp(m, x, n, logp);
    withCudaModel(m, (g) => g.logProb(x, n, logp));
  },
  async pixelRnnLogProbAsync(m, x, n, logp, opts) {
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    cudaPixelRnn.pixelRnnLogProb(m, x, n, logp);
    opts?.onProgress?.(1);
  },
  pixelRnnBackward(m, x, n, scale, logp, grads) {
    checkBackward(m, x, n, scale, logp, grads);
    noCudaBackward();
  },
  async pixelRnnBackwardAsync(m, x, n, scale, logp, grads) {
    checkBackward(m, x, n, scale, logp, grads);
    noCudaBackward();
  },
  // Per-row streams (coalesced requests) and completions run on the CPU sampler: the device
  // sampler takes one key per launch and draws every pixel, and changing its kernel is work no
  // machine here can test. The CPU draws from the same counters.
  pixelRnnSample(m, o, x, probs) {
    if (o.rowStreams !== undefined || (o.known ?? 0) > 0) return nativePixelRnn.pixelRnnSample(m, o, x, probs);
    checkSample(m, o, x, probs);
    withCudaModel(m, (g) => g.sample(o, x, probs));
  },
  async pixelRnnSampleAsync(m, o, x, probs, opts) {
    if (o.rowStreams !== undefined || (o.known ?? 0) > 0) return nativePixelRnn.pixelRnnSampleAsync(m, o, x, probs, opts);
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    cudaPixelRnn.pixelRnnSample(m, o, x, probs);
    opts?.onProgress?.(1);
  },
};
