/** Kernel group "lstm". (Scaffold: its operations arrive with the CPU kernels issue.) */
export interface LstmKernels {}

export const jsLstm: LstmKernels = {};
export const nativeLstm: LstmKernels = {};
export const cudaLstm: LstmKernels = {};
