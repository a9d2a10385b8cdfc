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

export interface NativeAddon {
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
