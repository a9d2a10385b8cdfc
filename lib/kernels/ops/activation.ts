/** Kernel group "activation". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface ActivationKernels {}

export const jsActivation: ActivationKernels = {};
export const nativeActivation: ActivationKernels = {};
export const cudaActivation: ActivationKernels = {};
