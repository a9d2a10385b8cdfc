/** Kernel group "loss". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface LossKernels {}

export const jsLoss: LossKernels = {};
export const nativeLoss: LossKernels = {};
export const cudaLoss: LossKernels = {};
