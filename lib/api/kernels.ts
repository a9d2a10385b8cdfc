/** deepgen/kernels: the kernel backends themselves, their random numbers and the machine's peak. */
export { getKernels, resolveBackendName, type BackendName, type Kernels } from "../kernels/backend.js";
export type { Distribution } from "../kernels/kernels.js";
export type { JobOptions } from "../kernels/job.js";
export { getThreads, setThreads } from "../kernels/threads.js";
export { runtimeInfo, type RuntimeInfo } from "../kernels/runtime-info.js";
export { cudaStatus, type CudaStatus } from "../kernels/cuda.js";
export { fmaProbe, fmaProbeSync, measureFmaPeak, type PeakResult } from "../kernels/peak.js";
export { philox4x32, seedToKey, uniformF32, uniformF64, type PhiloxKey, type Seed } from "../core/philox.js";
export { CudaNadeModel, type NadeModelArrays } from "../kernels/ops/nade.js";
export { CudaPixelRnnModel } from "../kernels/ops/pixelrnn.js";
export {
  CudaDcganTrainer,
  type CudaDcganSpec,
  type DcganAdamState,
  type DcganStepOptions,
  type DcganStepResult,
  type DcganTrainerState,
} from "../kernels/ops/dcgan.js";
