/** deepgen: deep generative models of images on a native C++/CUDA core. Public API. */
export { DeepgenError, isDeepgenError, type ErrorCode } from "./core/errors.js";
export { Tensor, shapeSize, shapesEqual, type Shape } from "./core/tensor.js";
export { philox4x32, seedToKey, uniformF32, uniformF64, type PhiloxKey, type Seed } from "./core/philox.js";
export { getKernels, resolveBackendName, type BackendName, type Kernels } from "./core/backend.js";
export { getThreads, setThreads } from "./core/threads.js";
export { runtimeInfo, type RuntimeInfo } from "./core/runtime-info.js";
export { packageVersion as version } from "./core/package-root.js";
export type { JobOptions } from "./kernels/job.js";
export type { Distribution } from "./kernels/kernels.js";
export { fmaProbe, fmaProbeSync, measureFmaPeak, type PeakResult } from "./kernels/peak.js";
export {
  parseSafetensors,
  readSafetensors,
  readSafetensorsSync,
  serializeSafetensors,
  writeSafetensors,
  writeSafetensorsSync,
  MAX_HEADER_BYTES,
  type Dtype,
  type SafeTensor,
  type SafetensorsContents,
  type TensorData,
  type TensorToWrite,
} from "./io/safetensors.js";
export { loadModelFile, saveModelFile, type ModelFile } from "./io/model-file.js";
export { atomicWriteFile, atomicWriteFileSync } from "./io/atomic-write.js";
