/** Kernel group "gemm": SGEMM (native/kernels/cpu/gemm.cc, js/gemm.ts). */
import { checkFloat32Array, checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { cudaAddon } from "../cuda.js";
import { type GemmSpec, gemm as jsGemmTwin } from "../js/gemm.js";
import { callNative } from "../native.js";

export interface GemmParams {
  /** op(A) is [m, k]: A is [m, k] row-major, or [k, m] when transA. */
  a: Float32Array;
  /** op(B) is [k, n]: B is [k, n], or [n, k] when transB. */
  b: Float32Array;
  /** C is [m, n]; overwritten when beta = 0 (its old contents, even NaN, are ignored). */
  c: Float32Array;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Leading dimensions (row strides); default: the row length. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Batched: matrix i starts at i * stride (a stride of 0 shares the matrix). */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

export interface GemmKernels {
  /** C = alpha * op(A) @ op(B) + beta * C (fp32, row-major, optionally batched). */
  gemm(p: GemmParams): void;
}

/** Elements a row-major [rows, cols] matrix with leading dimension ld spans, over the batch. */
function extent(batch: number, stride: number, rows: number, cols: number, ld: number): number {
  if (batch === 0 || rows === 0 || cols === 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

export function checkGemm(p: GemmParams): GemmSpec {
  if (typeof p !== "object" || p === null) throw new DeepgenError("E_ARG", "gemm: parameters must be an object");
  checkFloat32Array("gemm a", p.a);
  checkFloat32Array("gemm b", p.b);
  checkFloat32Array("gemm c", p.c);
  const m = checkInteger("gemm m", p.m, 0);
  const n = checkInteger("gemm n", p.n, 0);
  const k = checkInteger("gemm k", p.k, 0);
  const transA = Boolean(p.transA);
  const transB = Boolean(p.transB);
  const aCols = transA ? m : k;
  const bCols = transB ? k : n;
  const lda = checkInteger("gemm lda", p.lda ?? aCols, aCols);
  const ldb = checkInteger("gemm ldb", p.ldb ?? bCols, bCols);
  const ldc = checkInteger("gemm ldc", p.ldc ?? n, n);
  const batch = checkInteger("gemm batch", p.batch ?? 1, 0);
  const strideA = checkInteger("gemm strideA", p.strideA ?? (transA ? k : m) * lda, 0);
  const strideB = checkInteger("gemm strideB", p.strideB ?? (transB ? n : k) * ldb, 0);
  const strideC = checkInteger("gemm strideC", p.strideC ?? m * ldc, 0);
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new DeepgenError("E_ARG", "gemm: alpha and beta must be finite numbers");
  const need: Array<[string, Float32Array, number]> = [
    ["a", p.a, extent(batch, strideA, transA ? k : m, aCols, lda)],
    ["b", p.b, extent(batch, strideB, transB ? n : k, bCols, ldb)],
    ["c", p.c, extent(batch, strideC, m, n, ldc)],
  ];
  for (const [name, arr, len] of need) {
    if (arr.length < len) {
      throw new DeepgenError("E_SHAPE", `gemm: ${name} has ${arr.length} elements, the shapes need ${len}`);
    }
  }
  return { transA, transB, m, n, k, alpha, beta, lda, ldb, ldc, batch, strideA, strideB, strideC };
}

export const jsGemm: GemmKernels = {
  gemm(p) {
    jsGemmTwin(checkGemm(p), p.a, p.b, p.c);
  },
};

export const nativeGemm: GemmKernels = {
  gemm(p) {
    const s = checkGemm(p);
    callNative((addon) => addon.gemm(s, p.a, p.b, p.c));
  },
};

/** The CUDA tiled kernel (native/kernels/cuda/gemm.cu): host arrays in, copied to the device and back. */
export const cudaGemm: GemmKernels = {
  gemm(p) {
    const s = checkGemm(p);
    callNative(() => cudaAddon().cudaGemm(s, p.a, p.b, p.c));
  },
};
