/**
 * deepgen: deep generative models of images on a native C++/CUDA core. The root entry point:
 * the model classes and `load`, sample quality, ONNX, errors, backends and threads. Everything
 * else lives in subpath entry points: deepgen/data, deepgen/io, deepgen/metrics, deepgen/onnx,
 * deepgen/kernels and deepgen/serve.
 */
export { DeepgenError, isDeepgenError, type ErrorCode } from "./core/errors.js";
export { packageVersion as version } from "./core/package-root.js";
export type { Seed } from "./core/philox.js";
export type { BackendName } from "./kernels/kernels.js";
export type { JobOptions } from "./kernels/job.js";
export { getThreads, setThreads } from "./kernels/threads.js";
export { runtimeInfo, type RuntimeInfo } from "./kernels/runtime-info.js";
export { cudaStatus, type CudaStatus } from "./kernels/cuda.js";
export { writeImageGrid, type GridOptions } from "./io/png.js";

export { load, SHIPPED_MODELS, type Model, type SamplerModel } from "./models/registry.js";
export type { LoadedModel, Sampler } from "./models/sampler.js";
export type { ModelCard } from "./models/card.js";
export type {
  DensityModel,
  InputCallOptions,
  ModelCallOptions,
  SampleOptions,
  Samples,
  SyncInputOptions,
  SyncSampleOptions,
} from "./models/density.js";
export type { EpochRecord, TrainingProgress } from "./models/trainer.js";

export { IndependentBernoulli, MarkovChain } from "./models/baselines.js";
export { Nade, type NadeConfig, type NadeCreateOptions, type NadeFitOptions, type NadeFitResult } from "./models/nade.js";
export { Rnade, type RnadeConfig, type RnadeCreateOptions, type RnadeFitOptions } from "./models/rnade.js";
export {
  PixelRnn,
  type PixelRnnConfig,
  type PixelRnnCreateOptions,
  type PixelRnnFitOptions,
  type PixelRnnFitResult,
  type PixelRnnKindName,
  type PixelRnnSampleOptions,
} from "./models/pixelrnn.js";
export {
  Vae,
  type ElboOptions,
  type ElboTerms,
  type IwaeOptions,
  type VaeConfig,
  type VaeCreateOptions,
  type VaeFitOptions,
  type VaeFitResult,
} from "./models/vae.js";
export type { InterpolateImagesOptions, LatentMapOptions } from "./models/autoencoder.js";
export { Aae, type AaeConfig, type AaeCreateOptions, type AaeFitOptions, type AaeFitResult, type AaeTerms } from "./models/aae.js";
export {
  Gan,
  type GanAsyncSampleOptions,
  type GanConfig,
  type GanCreateOptions,
  type GanFitOptions,
  type GanFitResult,
  type GanInterpolateOptions,
  type GanLatentOptions,
  type GanSampleOptions,
} from "./models/gan.js";
export {
  TextToImage,
  type TextToImageConfig,
  type TextToImageCreateOptions,
  type TextToImageFitOptions,
  type TextToImageFitResult,
  type GenerateOptions as TextToImageGenerateOptions,
  type GenerateAsyncOptions as TextToImageGenerateAsyncOptions,
  type GeneratedImages as TextToImageImages,
} from "./models/text2image.js";
export { TextCvae, type TextCvaeConfig, type TextCvaeCreateOptions, type TextCvaeFitOptions } from "./models/text-cvae.js";
export { Classifier, type ClassifierConfig, type ClassifierCreateOptions, type ClassifierFitOptions } from "./models/classifier.js";
export { CaptionJudge, type CaptionJudgeConfig, type CaptionJudgeCreateOptions, type JudgeReading } from "./models/caption-judge.js";

export { sampleQuality, type QualityOptions, type SampleQuality } from "./models/sample-quality.js";
export { fid } from "./models/fid.js";
export { exportOnnx, onnxRuntimeAvailable, OnnxGenerator, OnnxModel, OnnxTextToImage, type ExportOptions } from "./onnx/index.js";
export { createServer, type CreateServerOptions, type DeepgenServer } from "./serve/server.js";
