/**
 * The native addon's whole surface, declared once. Every function here is exported by
 * native/addon/*.cc; lib/kernels/native.ts is the only importer of the raw addon.
 *
 * Async functions take a cancel flag (Int32Array(1); JS raises element 0 to abort) and an
 * optional progress callback. Buffers passed to async functions are read/written in place
 * on native threads: they must not be mutated until the promise settles.
 *
 * One file, longer than most here, on purpose: it is one idea (the boundary with C++), and a
 * reader checking a binding against its declaration wants every group in one place.
 */

import type { Conv2dSpec } from "./js/conv2d.js";
import type { ConvTranspose2dSpec } from "./js/conv-transpose2d.js";
import type { GemmSpec } from "./js/gemm.js";

/** Bumped in lockstep with kAbiVersion in native/addon/addon.cc. */
export const EXPECTED_ABI_VERSION = 6;

export type NativeDistribution = 0 | 1; // 0 = uniform, 1 = normal

export interface NativeCudaDevice {
  name?: string;
  computeCapability?: string;
  totalMemory?: number;
  freeMemory?: number;
  error?: string;
}

export interface NativeInfo {
  /** simdPath: the kernels this CPU runs (neon on arm64; portable where no SIMD kernels apply). */
  cpu: { avx2: boolean; fma: boolean; avx512f: boolean; simdKernels: boolean; simdPath: "avx512" | "avx2+fma" | "neon" | "portable" };
  threads: number;
  defaultThreads: number;
  /** residentBytes: device memory held by live CUDA model handles (0 without CUDA). */
  cuda: { built: boolean; devices: number; reason?: string; residentBytes: number; deviceList: NativeCudaDevice[] };
}

export type ProgressCallback = ((fraction: number) => void) | undefined;

/** Runtime info, threads, Philox and the FMA probe (native/addon/bind_core.cc). */
export interface CoreAddon {
  readonly abiVersion: number;
  info(): NativeInfo;
  threadLimit(): number;
  setThreadLimit(n: number): void;

  philoxFill(out: Float32Array, key0: number, key1: number, stream: number, dist: NativeDistribution): void;
  philoxFillAsync(
    out: Float32Array,
    key0: number,
    key1: number,
    stream: number,
    dist: NativeDistribution,
    cancel: Int32Array,
    onProgress: ProgressCallback,
  ): Promise<void>;

  /** Returns the sum of the accumulators (see native/kernels/cpu/fma_probe.h). */
  fmaProbe(iters: number, chunks: number, maxThreads: number): number;
  fmaProbeAsync(iters: number, chunks: number, maxThreads: number, cancel: Int32Array, onProgress: ProgressCallback): Promise<number>;

  cudaPhiloxFill(out: Float32Array, key0: number, key1: number, stream: number, dist: NativeDistribution): void;
}

// One interface per kernel group, each matching a native/addon/bind_<group>.cc: a binding and
// its declaration here change together.

/**
 * The spec object of a gemm call: the GemmSpec that lib/kernels/ops/gemm.ts resolves (op(A)
 * [m, k], op(B) [k, n], C [m, n]; leading dimensions and per-matrix strides in elements).
 */
export type NativeGemmSpec = GemmSpec;

/** native/addon/bind_gemm.cc */
export interface GemmAddon {
  /** See native/kernels/cpu/gemm.h; all sizes are checked against the arrays' lengths. */
  gemm(spec: NativeGemmSpec, a: Float32Array, b: Float32Array, c: Float32Array): void;
  /** The same call on the CUDA kernel (cuda/gemm.cu); E_BACKEND without CUDA or a device. */
  cudaGemm(spec: NativeGemmSpec, a: Float32Array, b: Float32Array, c: Float32Array): void;
}

/**
 * The geometry objects of the conv calls: the Conv2dSpec / ConvTranspose2dSpec that
 * lib/kernels/ops/conv.ts resolves (mask: 0 none, 1 A, 2 B); the native side derives the
 * output size itself.
 */
export type NativeConv2dSpec = Omit<Conv2dSpec, "outH" | "outW">;
export type NativeConvTranspose2dSpec = Omit<ConvTranspose2dSpec, "outH" | "outW">;

/** native/addon/bind_conv.cc */
export interface ConvAddon {
  // Each call takes its geometry as a spec object first. Arrays must have exactly the sizes
  // the geometry implies (E_SHAPE otherwise) and outputs must not overlap any other argument
  // (E_ARG). Synchronous.
  conv2dForward(spec: NativeConv2dSpec, x: Float32Array, weight: Float32Array, bias: Float32Array | null, y: Float32Array): void;
  conv2dBackwardData(spec: NativeConv2dSpec, dy: Float32Array, weight: Float32Array, dx: Float32Array): void;
  conv2dBackwardWeight(
    spec: NativeConv2dSpec,
    x: Float32Array,
    dy: Float32Array,
    dweight: Float32Array,
    dbias: Float32Array | null,
    accumulate: boolean,
  ): void;
  conv2dMaskWeights(spec: Pick<NativeConv2dSpec, "outC" | "inC" | "kH" | "kW" | "mask">, weight: Float32Array): void;
  convTranspose2dForward(
    spec: NativeConvTranspose2dSpec,
    x: Float32Array,
    weight: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
  ): void;
  convTranspose2dBackwardData(spec: NativeConvTranspose2dSpec, dy: Float32Array, weight: Float32Array, dx: Float32Array): void;
  convTranspose2dBackwardWeight(
    spec: NativeConvTranspose2dSpec,
    x: Float32Array,
    dy: Float32Array,
    dweight: Float32Array,
    dbias: Float32Array | null,
    accumulate: boolean,
  ): void;
}

/**
 * A conv block's spec object: flags, then the geometry (outputPadH / outputPadW 0 for a plain
 * conv). norm: 0 none / 1 train / 2 eval; activation as ActivationAddon. eps and momentum are
 * read by the forward only.
 */
export interface NativeConvBlockSpec extends NativeConvTranspose2dSpec {
  transposed: boolean;
  norm: 0 | 1 | 2;
  activation: number;
  slope: number;
  eps: number;
  momentum: number;
}

/**
 * native/addon/bind_convblock.cc: conv / convT + batch norm + activation, one call each way.
 * Arrays must have exactly the sizes the geometry implies (E_SHAPE); arrays the kernel writes
 * must not overlap any other argument (E_ARG). The norm arrays may be null with norm 0.
 */
export interface ConvBlockAddon {
  /** convBlockForward's arguments, run by the CUDA kernels (cuda/conv_block.cu); E_BACKEND without a device. */
  cudaConvBlockForward(...args: Parameters<ConvBlockAddon["convBlockForward"]>): void;
  /** convBlockBackward's arguments, run by the CUDA kernels (cuda/conv_block_backward.cu). */
  cudaConvBlockBackward(...args: Parameters<ConvBlockAddon["convBlockBackward"]>): void;
  convBlockForward(
    spec: NativeConvBlockSpec,
    x: Float32Array,
    weight: Float32Array,
    bias: Float32Array | null,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    runningMean: Float32Array | null,
    runningVar: Float32Array | null,
    pre: Float32Array,
    mean: Float32Array | null,
    rstd: Float32Array | null,
    y: Float32Array,
  ): void;
  /** dy is overwritten with the gradient at the conv output. norm 2 (eval) is refused. */
  convBlockBackward(
    spec: NativeConvBlockSpec,
    x: Float32Array,
    weight: Float32Array,
    gamma: Float32Array | null,
    pre: Float32Array,
    mean: Float32Array | null,
    rstd: Float32Array | null,
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    dweight: Float32Array,
    dbias: Float32Array | null,
    dgamma: Float32Array | null,
    dbeta: Float32Array | null,
    accumulate: boolean,
  ): void;
}

/**
 * native/addon/bind_activation.cc. kind: 0 identity, 1 relu, 2 leakyRelu, 3 tanh, 4 sigmoid,
 * 5 softplus (native/kernels/cpu/activation.h); slope is a finite number >= 0 for every kind.
 * Layout [n, c, s], bias [c]. Backward functions read y (the forward output), never x.
 */
export interface ActivationAddon {
  /** y = f(x); x and y of equal length; y may be x. */
  activationForward(kind: number, x: Float32Array, y: Float32Array, slope: number): void;
  /** dx = dy * f'(x) computed from y; all of equal length; dx may be dy. */
  activationBackward(kind: number, y: Float32Array, dy: Float32Array, dx: Float32Array, slope: number): void;
  /** y[n, c, s] = f(x[n, c, s] + bias[c]); y may be x. */
  biasActivationForward(
    kind: number,
    x: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    n: number,
    c: number,
    s: number,
    slope: number,
  ): void;
  /** activationForward / biasActivationForward on the GPU (cuda/activation.cu); E_BACKEND without CUDA or a device. */
  cudaActivationForward(kind: number, x: Float32Array, y: Float32Array, slope: number): void;
  cudaBiasActivationForward(
    kind: number,
    x: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    n: number,
    c: number,
    s: number,
    slope: number,
  ): void;
  /** dx = dy * f'(pre) from y; dbias[c] = sum over n, s of dx (overwritten). */
  biasActivationBackward(
    kind: number,
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dbias: Float32Array,
    n: number,
    c: number,
    s: number,
    slope: number,
  ): void;
  /** y = exp(x) elementwise (AVX2 polynomial, <= 2 ulp); x and y of equal length. */
  vexp(x: Float32Array, y: Float32Array): void;
  /** y = log(x) elementwise (AVX2 polynomial, <= 2 ulp); x and y of equal length. */
  vlog(x: Float32Array, y: Float32Array): void;
}

/**
 * native/addon/bind_norm.cc (native/kernels/cpu/batchnorm.h, layernorm.h). BatchNorm over
 * [n, c, s] per channel (per-channel arrays [c]); LayerNorm over the last dim of [rows, dim]
 * (gamma, beta [dim]; mean, rstd [rows]). Outputs are overwritten; running stats in place.
 */
export interface NormAddon {
  /** batchNormForwardTrain / batchNormForwardEval on the GPU (cuda/batchnorm.cu); E_BACKEND without CUDA or a device. */
  cudaBatchNormForwardTrain(...args: Parameters<NormAddon["batchNormForwardTrain"]>): void;
  cudaBatchNormForwardEval(...args: Parameters<NormAddon["batchNormForwardEval"]>): void;
  batchNormForwardTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    n: number,
    c: number,
    s: number,
    eps: number,
    momentum: number,
  ): void;
  batchNormForwardEval(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    y: Float32Array,
    n: number,
    c: number,
    s: number,
    eps: number,
  ): void;
  batchNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    n: number,
    c: number,
    s: number,
  ): void;
  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    dim: number,
    eps: number,
  ): void;
  layerNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    dim: number,
  ): void;
}

/** native/addon/bind_lstm.cc */
export interface LstmAddon {
  /** pre [B, 4H] (blocks o, f, i, g), cPrev [B, H] -> h [B, H], c [B, H], gates [B, 4H]. */
  lstmGatesForward(
    h: Float32Array,
    c: Float32Array,
    gates: Float32Array,
    pre: Float32Array,
    cPrev: Float32Array,
    batch: number,
    hidden: number,
  ): void;
  /** dh, dc (or null = zeros) [B, H], gates [B, 4H], cPrev, c [B, H] -> dpre [B, 4H], dcPrev [B, H]. */
  lstmGatesBackward(
    dpre: Float32Array,
    dcPrev: Float32Array,
    dh: Float32Array,
    dc: Float32Array | null,
    gates: Float32Array,
    cPrev: Float32Array,
    c: Float32Array,
    batch: number,
    hidden: number,
  ): void;
}

/** native/addon/bind_loss.cc */
export interface LossAddon {
  /** Row-wise over [rows, cols]; forward functions return the float64 total over rows. */
  bceWithLogitsForward(rowLoss: Float32Array | null, logits: Float32Array, targets: Float32Array, rows: number, cols: number): number;
  /** Upstream factor per row: scale * rowScale[r] (rowScale given) or scale. */
  bceWithLogitsBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    rowScale: Float32Array | null,
  ): void;
  continuousBernoulliNllForward(
    rowNll: Float32Array | null,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
  ): number;
  continuousBernoulliNllBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    rowScale: Float32Array | null,
  ): void;
  gaussianKlForward(rowKl: Float32Array | null, mu: Float32Array, logvar: Float32Array, rows: number, cols: number): number;
  gaussianKlBackward(
    dmu: Float32Array,
    dlogvar: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    rowScale: Float32Array | null,
  ): void;
  gaussianLogProbForward(
    rowLogProb: Float32Array | null,
    x: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
  ): number;
  gaussianLogProbBackward(
    dx: Float32Array | null,
    dmu: Float32Array | null,
    dlogvar: Float32Array | null,
    x: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    rowScale: Float32Array | null,
  ): void;
  /** Rows of class logits against target probabilities (one-hot or soft); returns the float64 total. */
  softmaxCrossEntropyForward(rowLoss: Float32Array | null, logits: Float32Array, targets: Float32Array, rows: number, cols: number): number;
  softmaxCrossEntropyBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    rowScale: Float32Array | null,
  ): void;
  logSumExpForward(out: Float32Array, x: Float32Array, rows: number, cols: number): void;
  logSumExpBackward(dx: Float32Array, x: Float32Array, lse: Float32Array, dout: Float32Array, rows: number, cols: number): void;
  /** float64 sum in the blocked order of native/kernels/cpu/loss.h. */
  reduceSum(x: Float32Array): number;
  /** Throws E_SHAPE for an empty array. */
  reduceMean(x: Float32Array): number;
}

/** native/addon/bind_optim.cc */
export interface OptimAddon {
  /** In place. biasCorrection{1,2} = 1 - beta{1,2}^t, computed by the caller. */
  adamStep(
    params: Float32Array,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    biasCorrection1: number,
    biasCorrection2: number,
  ): void;
  /** adamStep on the CUDA kernel (cuda/optim.cu); E_BACKEND without CUDA or a device. */
  cudaAdamStep(...args: Parameters<OptimAddon["adamStep"]>): void;
  /** In place; velocity may be null only when momentum is 0. */
  sgdStep(
    params: Float32Array,
    grads: Float32Array,
    velocity: Float32Array | null,
    lr: number,
    momentum: number,
    nesterov: boolean,
    weightDecay: number,
  ): void;
  /** Scales all arrays in place when their global L2 norm exceeds maxNorm; returns the norm before. */
  clipGradNorm(grads: Float32Array[], maxNorm: number): number;
  /** clipGradNorm on the GPU (cuda/optim.cu); E_BACKEND without CUDA or a device. */
  cudaClipGradNorm(grads: Float32Array[], maxNorm: number): number;
}

/**
 * native/addon/bind_nade.cc. Model arguments first: D, H, wt [D,H], c [H], v [D,H], b [D],
 * order (Int32Array permutation of 0..D-1). See native/kernels/cpu/nade.h.
 */
export interface NadeAddon {
  nadeLogProb(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
    x: Float32Array,
    n: number,
    logp: Float32Array,
  ): void;
  nadeLogProbAsync(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
    x: Float32Array,
    n: number,
    logp: Float32Array,
    cancel: Int32Array,
    onProgress: ProgressCallback,
  ): Promise<void>;
  nadeSample(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
    n: number,
    offsetLo: number,
    offsetHi: number,
    key0: number,
    key1: number,
    stream: number,
    known: number,
    x: Float32Array,
    probs: Float32Array | null,
    rowStreams: Uint32Array | null,
  ): void;
  nadeSampleAsync(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
    n: number,
    offsetLo: number,
    offsetHi: number,
    key0: number,
    key1: number,
    stream: number,
    known: number,
    x: Float32Array,
    probs: Float32Array | null,
    rowStreams: Uint32Array | null,
    cancel: Int32Array,
    onProgress: ProgressCallback,
  ): Promise<void>;
  nadeBackward(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
    x: Float32Array,
    n: number,
    scale: number,
    logp: Float32Array | null,
    dwt: Float32Array,
    dc: Float32Array,
    dv: Float32Array,
    db: Float32Array,
  ): void;
  nadeBackwardAsync(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
    x: Float32Array,
    n: number,
    scale: number,
    logp: Float32Array | null,
    dwt: Float32Array,
    dc: Float32Array,
    dv: Float32Array,
    db: Float32Array,
    cancel: Int32Array,
    onProgress: ProgressCallback,
  ): Promise<void>;
  /** Copies the weights to the device once; E_BACKEND without CUDA or a device. */
  cudaNadeUpload(
    d: number,
    h: number,
    wt: Float32Array,
    c: Float32Array,
    v: Float32Array,
    b: Float32Array,
    order: Int32Array,
  ): CudaNadeHandle;
  /** Frees the device copy now (idempotent). */
  cudaNadeRelease(handle: CudaNadeHandle): void;
  cudaNadeLogProb(handle: CudaNadeHandle, x: Float32Array, n: number, logp: Float32Array): void;
  cudaNadeSample(
    handle: CudaNadeHandle,
    n: number,
    offsetLo: number,
    offsetHi: number,
    key0: number,
    key1: number,
    stream: number,
    known: number,
    x: Float32Array,
    probs: Float32Array | null,
  ): void;
  cudaNadeBackward(
    handle: CudaNadeHandle,
    x: Float32Array,
    n: number,
    scale: number,
    logp: Float32Array | null,
    dwt: Float32Array,
    dc: Float32Array,
    dv: Float32Array,
    db: Float32Array,
  ): void;
}

/** An opaque device-resident NADE (a type-tagged N-API External). */
export type CudaNadeHandle = { readonly __cudaNadeHandle: unique symbol };

/**
 * native/addon/bind_rnade.cc. Model arguments (RnadeModelArgs) first: D, H, K, wt [D,H],
 * c [H], va, vm, vs [D,K,H], ba, bm, bs [D,K]. See native/kernels/cpu/rnade.h.
 */
export type RnadeModelArgs = [
  d: number,
  h: number,
  k: number,
  wt: Float32Array,
  c: Float32Array,
  va: Float32Array,
  vm: Float32Array,
  vs: Float32Array,
  ba: Float32Array,
  bm: Float32Array,
  bs: Float32Array,
];
export type RnadeGradArgs = [
  gwt: Float32Array,
  gc: Float32Array,
  gva: Float32Array,
  gvm: Float32Array,
  gvs: Float32Array,
  gba: Float32Array,
  gbm: Float32Array,
  gbs: Float32Array,
];
export interface RnadeAddon {
  rnadeLogProb(...args: [...RnadeModelArgs, x: Float32Array, n: number, logp: Float32Array]): void;
  rnadeLogProbAsync(
    ...args: [...RnadeModelArgs, x: Float32Array, n: number, logp: Float32Array, cancel: Int32Array, onProgress: ProgressCallback]
  ): Promise<void>;
  rnadeBackward(...args: [...RnadeModelArgs, x: Float32Array, n: number, scale: number, logp: Float32Array | null, ...RnadeGradArgs]): void;
  rnadeBackwardAsync(
    ...args: [
      ...RnadeModelArgs,
      x: Float32Array,
      n: number,
      scale: number,
      logp: Float32Array | null,
      ...RnadeGradArgs,
      cancel: Int32Array,
      onProgress: ProgressCallback,
    ]
  ): Promise<void>;
  rnadeSample(
    ...args: [
      ...RnadeModelArgs,
      n: number,
      offsetLo: number,
      offsetHi: number,
      key0: number,
      key1: number,
      stream: number,
      x: Float32Array,
      rowStreams: Uint32Array | null,
    ]
  ): void;
  rnadeSampleAsync(
    ...args: [
      ...RnadeModelArgs,
      n: number,
      offsetLo: number,
      offsetHi: number,
      key0: number,
      key1: number,
      stream: number,
      x: Float32Array,
      rowStreams: Uint32Array | null,
      cancel: Int32Array,
      onProgress: ProgressCallback,
    ]
  ): Promise<void>;
}

/**
 * native/addon/bind_pixelrnn.cc. Model arguments first: kind (0 Row LSTM, 1 Diagonal BiLSTM),
 * layers, hidden, rows, cols, params (flat, pixelRnnLayout order). See native/kernels/cpu/pixelrnn.h.
 */
export type PixelRnnModelArgs = [kind: number, layers: number, hidden: number, rows: number, cols: number, params: Float32Array];
export type PixelRnnSampleArgs = [
  n: number,
  offsetLo: number,
  offsetHi: number,
  key0: number,
  key1: number,
  stream: number,
  cached: boolean,
  x: Float32Array,
  probs: Float32Array | null,
  rowStreams: Uint32Array | null,
  /** > 0: the first `known` pixels of each row of x are kept, not drawn (a completion). */
  known: number,
];
export interface PixelRnnAddon {
  pixelRnnLogProb(...args: [...PixelRnnModelArgs, x: Float32Array, n: number, logp: Float32Array]): void;
  pixelRnnLogProbAsync(
    ...args: [...PixelRnnModelArgs, x: Float32Array, n: number, logp: Float32Array, cancel: Int32Array, onProgress: ProgressCallback]
  ): Promise<void>;
  pixelRnnBackward(
    ...args: [...PixelRnnModelArgs, x: Float32Array, n: number, scale: number, logp: Float32Array | null, grads: Float32Array]
  ): void;
  pixelRnnBackwardAsync(
    ...args: [
      ...PixelRnnModelArgs,
      x: Float32Array,
      n: number,
      scale: number,
      logp: Float32Array | null,
      grads: Float32Array,
      cancel: Int32Array,
      onProgress: ProgressCallback,
    ]
  ): Promise<void>;
  pixelRnnSample(...args: [...PixelRnnModelArgs, ...PixelRnnSampleArgs]): void;
  pixelRnnSampleAsync(
    ...args: [...PixelRnnModelArgs, ...PixelRnnSampleArgs, cancel: Int32Array, onProgress: ProgressCallback]
  ): Promise<void>;
  /** Copies the parameters to the device once; E_BACKEND without CUDA or a device. */
  cudaPixelRnnUpload(...args: PixelRnnModelArgs): CudaPixelRnnHandle;
  /** Frees the device copy now (idempotent). */
  cudaPixelRnnRelease(handle: CudaPixelRnnHandle): void;
  cudaPixelRnnLogProb(handle: CudaPixelRnnHandle, x: Float32Array, n: number, logp: Float32Array): void;
  /** The cached sampler (the naive one draws the same images). */
  cudaPixelRnnSample(
    handle: CudaPixelRnnHandle,
    n: number,
    offsetLo: number,
    offsetHi: number,
    key0: number,
    key1: number,
    stream: number,
    x: Float32Array,
    probs: Float32Array | null,
  ): void;
}

/** An opaque device-resident PixelRNN (a type-tagged N-API External). */
export type CudaPixelRnnHandle = { readonly __cudaPixelRnnHandle: unique symbol };

/** native/addon/bind_reparam.cc (semantics: lib/kernels/ops/reparam.ts). */
export interface ReparamAddon {
  reparamForward(
    z: Float32Array,
    eps: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    k: number,
    key0: number,
    key1: number,
    stream: number,
    firstSample: number,
  ): void;
  reparamBackward(
    dmu: Float32Array,
    dlogvar: Float32Array,
    dz: Float32Array,
    eps: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    k: number,
    accumulate: boolean,
  ): void;
}

/**
 * The DCGAN shape: of the CPU networks (lib/nn/dcgan-nets.ts, as lib/kernels/ops/dcgan.ts
 * DcganSpec) and of the device trainer, which is always told discStddev.
 */
export interface NativeDcganSpec {
  height: number;
  width: number;
  zdim: number;
  /** Generator channels: after the dense layer, after the first transposed conv. */
  channels: [number, number];
  /** Discriminator channels of its two convs. */
  discChannels: [number, number];
  /** Batch norm on the discriminator's second conv. */
  discNorm: boolean;
  /** A minibatch standard deviation feature before the discriminator's logit (lib/nn/minibatch-stddev.ts). */
  discStddev: boolean;
}

/** One device DCGAN step's settings (ranges are checked by the kernel, dcgan_resident.cu). */
export interface NativeDcganStepOptions {
  genLr: number;
  discLr: number;
  beta1: number;
  beta2: number;
  eps: number;
  minimax: boolean;
  updateGenerator: boolean;
}

/** native/addon/bind_dcgan.cc: the device-resident DCGAN trainer (lib/kernels/ops/dcgan.ts). */
export interface DcganAddon {
  /** Copies both networks, the generator's running statistics and both Adam states to the device once. */
  cudaDcganUpload(
    spec: NativeDcganSpec,
    genParams: Float32Array,
    discParams: Float32Array,
    genBuffers: Float32Array,
    genM: Float32Array | null,
    genV: Float32Array | null,
    discM: Float32Array | null,
    discV: Float32Array | null,
    genStep: number,
    discStep: number,
  ): CudaDcganHandle;
  /** Frees the device copy now (idempotent). */
  cudaDcganRelease(handle: CudaDcganHandle): void;
  cudaDcganStep(
    handle: CudaDcganHandle,
    real: Float32Array,
    z: Float32Array,
    m: number,
    options: NativeDcganStepOptions,
  ): CudaDcganStepResult;
  cudaDcganGenerate(handle: CudaDcganHandle, z: Float32Array, n: number, out: Float32Array): void;
  /** Copies the state back (null: not wanted); returns [genStep, discStep]. */
  cudaDcganDownload(
    handle: CudaDcganHandle,
    genParams: Float32Array | null,
    discParams: Float32Array | null,
    genBuffers: Float32Array | null,
    genM: Float32Array | null,
    genV: Float32Array | null,
    discM: Float32Array | null,
    discV: Float32Array | null,
  ): [number, number];
}

/** What one device DCGAN step reports (sums over the batch; see cuda_api.h DcganStepResult). */
export interface CudaDcganStepResult {
  discLossSum: number;
  dRealSum: number;
  dFakeSum: number;
  genLoss: number;
  discGradNorm: number;
  genGradNorm: number;
  discUpdated: boolean;
  genUpdated: boolean;
}

/** An opaque device-resident DCGAN (a type-tagged N-API External). */
export type CudaDcganHandle = { readonly __cudaDcganHandle: unique symbol };

/** One layer of a prepared network (native/kernels/cpu/prepared_net.h PreparedLayerSpec). */
export interface NativePreparedLayer {
  kind: 0 | 1; // 0 dense, 1 transposed conv
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  activation: number;
  slope: number;
  weight: Float32Array;
  bias: Float32Array | null;
}

/** An opaque prepared network (a type-tagged N-API External; freed by the garbage collector). */
export type PreparedNetHandle = { readonly __preparedNetHandle: unique symbol };

/** native/addon/bind_prepared_net.cc: inference networks with weights packed once (lib/kernels/ops/prepared-net.ts). */
export interface PreparedNetAddon {
  preparedNetCreate(layers: NativePreparedLayer[]): PreparedNetHandle;
  /** [inSize, outSize] per row. */
  preparedNetSizes(handle: PreparedNetHandle): [number, number];
  /** y = (act(net(x)) + shift) * scale; activation: a code of ACTIVATION_KINDS (0: identity). */
  preparedNetForward(
    handle: PreparedNetHandle,
    x: Float32Array,
    n: number,
    y: Float32Array,
    activation: number,
    shift: number,
    scale: number,
  ): void;
  preparedNetForwardAsync(
    handle: PreparedNetHandle,
    x: Float32Array,
    n: number,
    y: Float32Array,
    activation: number,
    shift: number,
    scale: number,
    cancel: Int32Array,
    onProgress: ProgressCallback,
  ): Promise<void>;
}

export interface NativeAddon
  extends CoreAddon,
    PreparedNetAddon,
    ReparamAddon,
    GemmAddon,
    NadeAddon,
    RnadeAddon,
    PixelRnnAddon,
    DcganAddon,
    ConvAddon,
    ConvBlockAddon,
    ActivationAddon,
    NormAddon,
    LstmAddon,
    LossAddon,
    OptimAddon {}
