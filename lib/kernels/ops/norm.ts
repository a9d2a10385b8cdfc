/** Kernel group "norm". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface NormKernels {}

export const jsNorm: NormKernels = {};
export const nativeNorm: NormKernels = {};
export const cudaNorm: NormKernels = {};
