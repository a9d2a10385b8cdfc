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
export { canonicalSplit, bundledMnist, canonicalIndices, MNIST_DIM, MNIST_SIDE, type Split } from "./data/mnist.js";
export { binarize, makeDataset, subset, type Dataset } from "./data/dataset.js";
export { readIdx } from "./data/idx.js";
export { epochBatches, permutation, splitValidation } from "./data/batching.js";
export { imageGrid, writeImageGrid, writePng, encodePng, type Raster, type GridOptions } from "./io/png.js";
export { linePlot, type Series, type PlotOptions } from "./io/plot.js";
export { IndependentBernoulli, MarkovChain, fullJointParamCount } from "./models/baselines.js";
export { Nade, meanNll, type NadeConfig, type NadeCreateOptions, type NadeFitOptions, type NadeFitResult } from "./models/nade.js";
export { PixelRnn, type PixelRnnConfig, type PixelRnnCreateOptions, type PixelRnnFitOptions, type PixelRnnFitResult, type PixelRnnKindName } from "./models/pixelrnn.js";
export { loadModel, resolveModelPath, SHIPPED_MODELS } from "./models/registry.js";
export type { DensityModel, ModelCallOptions, SampleOptions, Samples } from "./models/density.js";
export type { EpochRecord, TrainingState, TrainingProgress } from "./models/trainer.js";
export { Vae, VAE_ARCHS, type VaeConfig, type VaeCreateOptions, type VaeFitOptions, type VaeFitResult, type VaeEpochRecord, type ElboTerms, type IwaeOptions } from "./models/vae.js";
export { Aae, type AaeConfig, type AaeCreateOptions, type AaeFitOptions, type AaeFitResult, type AaeEpochRecord, type AaeTerms } from "./models/aae.js";
export { PRIORS, samplePrior, type PriorKind } from "./models/priors.js";
export { loadSampler } from "./models/registry.js";
export { Dense, Mlp, type MlpSpec } from "./nn/dense.js";
export { ConvDecoder, ConvEncoder, type ConvNetSpec, type Net } from "./nn/conv-nets.js";
export { scatterPlot, type PointGroup, type ScatterOptions } from "./io/scatter.js";
