/** Kernel group "conv". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface ConvKernels {}

export const jsConv: ConvKernels = {};
export const nativeConv: ConvKernels = {};
export const cudaConv: ConvKernels = {};
