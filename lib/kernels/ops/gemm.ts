/** Kernel group "gemm". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface GemmKernels {}

export const jsGemm: GemmKernels = {};
export const nativeGemm: GemmKernels = {};
export const cudaGemm: GemmKernels = {};
