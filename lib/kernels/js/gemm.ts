/**
 * JS twin of native/kernels/cpu/gemm.cc: C = alpha * op(A) @ op(B) + beta * C, row-major,
 * batched with strides; beta = 0 overwrites C. The loop order (i, p, j) streams rows of B
 * and C; each C element still accumulates over p in increasing order, like the native
 * micro-kernel, in the element type of C (float32 or float64).
 */
import type { FloatArray } from "./types.js";

export interface GemmSpec {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  lda: number;
  ldb: number;
  ldc: number;
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

export function gemm(s: GemmSpec, a: FloatArray, b: FloatArray, c: FloatArray): void {
  const acc = c instanceof Float64Array ? new Float64Array(s.n) : new Float32Array(s.n);
  for (let bi = 0; bi < s.batch; bi++) {
    const ao = bi * s.strideA;
    const bo = bi * s.strideB;
    const co = bi * s.strideC;
    for (let i = 0; i < s.m; i++) {
      acc.fill(0);
      for (let p = 0; p < s.k; p++) {
        const av = s.transA ? a[ao + p * s.lda + i]! : a[ao + i * s.lda + p]!;
        if (s.transB) {
          for (let j = 0; j < s.n; j++) acc[j] = acc[j]! + av * b[bo + j * s.ldb + p]!;
        } else {
          const row = bo + p * s.ldb;
          for (let j = 0; j < s.n; j++) acc[j] = acc[j]! + av * b[row + j]!;
        }
      }
      const crow = co + i * s.ldc;
      for (let j = 0; j < s.n; j++) {
        c[crow + j] = s.beta === 0 ? s.alpha * acc[j]! : s.alpha * acc[j]! + s.beta * c[crow + j]!;
      }
    }
  }
}
