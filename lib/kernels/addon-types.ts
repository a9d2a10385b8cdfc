/**
 * The native addon's whole surface, declared once. Every function here is exported by
 * native/addon/*.cc; lib/kernels/native.ts is the only importer of the raw addon.
 *
 * Async functions take a cancel flag (Int32Array(1); JS raises element 0 to abort) and an
 * optional progress callback. Buffers passed to async functions are read/written in place
 * on native threads: they must not be mutated until the promise settles.
 */

/** Bumped in lockstep with kAbiVersion in native/addon/addon.cc. */
export const EXPECTED_ABI_VERSION = 1;

export type NativeDistribution = 0 | 1; // 0 = uniform, 1 = normal

export interface NativeCudaDevice {
  name?: string;
  computeCapability?: string;
  totalMemory?: number;
  freeMemory?: number;
  error?: string;
}

export interface NativeInfo {
  cpu: { avx2: boolean; fma: boolean; avx512f: boolean; simdKernels: boolean };
  threads: number;
  defaultThreads: number;
  cuda: { built: boolean; devices: number; reason?: string; deviceList: NativeCudaDevice[] };
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
  fmaProbeAsync(
    iters: number,
    chunks: number,
    maxThreads: number,
    cancel: Int32Array,
    onProgress: ProgressCallback,
  ): Promise<number>;

  cudaPhiloxFill(out: Float32Array, key0: number, key1: number, stream: number, dist: NativeDistribution): void;
}

// One interface per kernel group, each matching a native/addon/bind_<group>.cc. A group's
// functions are added here by the issue that adds the group's kernels.

/** native/addon/bind_gemm.cc */
export interface GemmAddon {
  /** See native/kernels/cpu/gemm.h; all sizes are checked against the arrays' lengths. */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
    batch: number,
    strideA: number,
    strideB: number,
    strideC: number,
  ): void;
}

/** native/addon/bind_conv.cc */
export interface ConvAddon {}

/** native/addon/bind_activation.cc */
export interface ActivationAddon {}

/** native/addon/bind_norm.cc */
export interface NormAddon {}

/** native/addon/bind_lstm.cc */
export interface LstmAddon {}

/** native/addon/bind_loss.cc */
export interface LossAddon {}

/** native/addon/bind_optim.cc */
export interface OptimAddon {}

export interface NativeAddon
  extends CoreAddon,
    GemmAddon,
    ConvAddon,
    ActivationAddon,
    NormAddon,
    LstmAddon,
    LossAddon,
    OptimAddon {}
