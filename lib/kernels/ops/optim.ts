/** Kernel group "optim". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface OptimKernels {}

export const jsOptim: OptimKernels = {};
export const nativeOptim: OptimKernels = {};
export const cudaOptim: OptimKernels = {};
