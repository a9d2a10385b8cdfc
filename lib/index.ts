/** deepgen: deep generative models of images on a native C++/CUDA core. Public API. */
export { DeepgenError, isDeepgenError, type ErrorCode } from "./core/errors.js";
export { Tensor, shapeSize, shapesEqual, type Shape } from "./core/tensor.js";
export { philox4x32, seedToKey, uniformF32, uniformF64, type PhiloxKey, type Seed } from "./core/philox.js";
export { getKernels, resolveBackendName, type BackendName, type Kernels } from "./kernels/backend.js";
export { getThreads, setThreads } from "./kernels/threads.js";
export { runtimeInfo, type RuntimeInfo } from "./kernels/runtime-info.js";
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
export { CudaNadeModel, type NadeModelArrays } from "./kernels/ops/nade.js";
export { CudaPixelRnnModel } from "./kernels/ops/pixelrnn.js";
export {
  CudaDcganTrainer,
  type CudaDcganSpec,
  type DcganAdamState,
  type DcganStepOptions,
  type DcganStepResult,
  type DcganTrainerState,
} from "./kernels/ops/dcgan.js";
export { cudaStatus, type CudaStatus } from "./kernels/cuda.js";
export {
  Nade,
  meanNll,
  type NadeCompleteOptions,
  type NadeConfig,
  type NadeCreateOptions,
  type NadeFitOptions,
  type NadeFitResult,
} from "./models/nade.js";
export {
  PixelRnn,
  type PixelRnnConfig,
  type PixelRnnCreateOptions,
  type PixelRnnFitOptions,
  type PixelRnnFitResult,
  type PixelRnnKindName,
  type PixelRnnSampleOptions,
} from "./models/pixelrnn.js";
export { loadModel, resolveModelPath, SHIPPED_MODELS } from "./models/registry.js";
export type {
  DensityModel,
  InputCallOptions,
  ModelCallOptions,
  SampleOptions,
  Samples,
  SyncInputOptions,
  SyncSampleOptions,
} from "./models/density.js";
export type { BatchSampleOptions, BatchSampler, SampleRequest } from "./models/batch.js";
export type { InputCheckOptions } from "./models/common.js";
export type { EpochRecord, TrainingState, TrainingProgress } from "./models/trainer.js";
export {
  Vae,
  VAE_ARCHS,
  VAE_DECODERS,
  type VaeDecoder,
  type VaeConfig,
  type VaeCreateOptions,
  type VaeFitOptions,
  type VaeFitResult,
  type VaeEpochRecord,
  type ElboTerms,
  type ElboOptions,
  type IwaeOptions,
} from "./models/vae.js";
export {
  Aae,
  type AaeEvalOptions,
  type AaeConfig,
  type AaeCreateOptions,
  type AaeFitOptions,
  type AaeFitResult,
  type AaeEpochRecord,
  type AaeTerms,
} from "./models/aae.js";
export { PRIORS, samplePrior, type PriorKind } from "./models/priors.js";
export { loadSampler } from "./models/registry.js";
export { Dense, Mlp, type MlpSpec } from "./nn/dense.js";
export { ConvDecoder, ConvEncoder, type ConvNetSpec, type Net } from "./nn/conv-nets.js";
export { scatterPlot, type PointGroup, type ScatterOptions } from "./io/scatter.js";
export {
  gaussianMixture,
  toyDistribution,
  TOY_DATASETS,
  TOY_STREAM,
  type MixtureSpec,
  type ToyDistribution,
  type ToyName,
} from "./data/toy.js";
export {
  estimateGeneratorDensity,
  exactKde2d,
  defaultGridSize,
  type DensityEstimateOptions,
  type DensityFunction,
  type GeneratorDensity,
  type Grid2d,
} from "./models/generator-density.js";
export {
  diagnoseGan,
  modeCoverage,
  numericJsd,
  numericJsdDetails,
  optimalDiscriminator,
  valueFunctionJsd,
  D_EPS,
  type Coverage,
  type CoverageOptions,
  type DiagnoseOptions,
  type Discriminator,
  type GanDiagnostics,
  type NumericJsdResult,
  type ValueJsdOptions,
  type ValueJsdResult,
} from "./models/gan-diagnostics.js";
export {
  discriminatorPlot,
  jsdCurvePlot,
  samplesPlot,
  type DiscriminatorPlotOptions,
  type JsdRecord,
} from "./models/gan-diagnostic-plots.js";
export { heatmap, type HeatmapOptions } from "./io/heatmap.js";
export {
  GraphBuilder,
  exportOnnx,
  exportableGraphs,
  writeOnnx,
  OnnxModel,
  OnnxGenerator,
  OnnxTextToImage,
  onnxRuntimeAvailable,
  setOnnxRuntimeLoader,
  readDeepgenMetadata,
  type ExportOptions,
  type GeneratedImages,
  type OnnxGeneratorOptions,
  type OnnxTextToImageGenerateOptions,
  type OnnxTextToImageImages,
  type OnnxModelOptions,
  type OnnxValueInfo,
  type DeepgenOnnxMetadata,
} from "./onnx/index.js";
export {
  Classifier,
  type ClassifierConfig,
  type ClassifierCreateOptions,
  type ClassifierFitOptions,
  type ClassifierFitResult,
  type ClassifierEpochRecord,
} from "./models/classifier.js";
export { fid, frechetDistance, gaussianStats, symmetricEigen, symmetricSqrt, type GaussianStats } from "./models/fid.js";
export {
  sampleQuality,
  classCoverage,
  coverageFromPredictions,
  features,
  type ClassCoverage,
  type QualityOptions,
  type SampleQuality,
} from "./models/sample-quality.js";
export { sampleImages, SAMPLE_DOMAINS, type ImageSampler, type SampleDomain, type SampledImages } from "./models/sample-images.js";
export { writeCard, writeCurve, type CardRun, type CardSource, type TrainingCurve } from "./models/card.js";
export { densityCard, densityCurve, type DensityCardRun } from "./models/density-card.js";
export { latentCard, latentCurve, vaeReport, aaeReport, type LatentCardRun, type VaeReport, type AaeReport } from "./models/latent-card.js";
export { ganCard, ganLossCurve, ganFidCurve, type GanCardRun } from "./models/gan-card.js";
export { classifierCard, classifierCurve, type ClassifierCardRun } from "./models/classifier-card.js";
export { testLikelihood, type LikelihoodReport } from "./models/evaluate.js";
export {
  TextToImage,
  type TextToImageConfig,
  type TextToImageCreateOptions,
  type TextToImageFitOptions,
  type TextToImageFitResult,
  type TextToImageEpochRecord,
  type GenerateOptions as TextToImageGenerateOptions,
  type GenerateAsyncOptions as TextToImageGenerateAsyncOptions,
  type GeneratedImages as TextToImageImages,
} from "./models/text2image.js";
export {
  TextCvae,
  binarizedCanvases,
  type TextCvaeConfig,
  type TextCvaeCreateOptions,
  type TextCvaeElbo,
  type TextCvaeElboOptions,
  type TextCvaeIwaeOptions,
  type TextCvaeIwaeAsyncOptions,
  type TextCvaeFitOptions,
  type TextCvaeFitResult,
  type TextCvaeEpochRecord,
} from "./models/text-cvae.js";
export { loadCaptionModel, type CaptionModel } from "./models/text2image-loader.js";
export {
  CaptionJudge,
  type CaptionJudgeConfig,
  type CaptionJudgeCreateOptions,
  type CaptionJudgeFitOptions,
  type JudgeReading,
} from "./models/caption-judge.js";
export {
  judgeCeiling,
  readingScores,
  scoreGenerator,
  type CaptionedGenerator,
  type CeilingReport,
  type GeneratedReport,
  type ReadingScores,
} from "./models/text2image-metrics.js";
export {
  allCaptions,
  captionSet,
  captionText,
  CAPTION_SETS,
  type Caption,
  type CaptionSet,
  type CaptionedCanvases,
} from "./data/mnist-captions.js";
export { testCanvases, validationCanvases, trainingCanvases } from "./data/mnist-captions-split.js";
export { tokenize, normalizeCaption, VOCABULARY } from "./data/caption-tokens.js";
export {
  Gan,
  GAN_LOSSES,
  type GanConfig,
  type GanCreateOptions,
  type GanFitOptions,
  type GanFitResult,
  type GanEpochRecord,
  type GanLoss,
  type GanSampleOptions,
  type GanAsyncSampleOptions,
} from "./models/gan.js";
export { Rnade, type RnadeConfig, type RnadeCreateOptions, type RnadeFitOptions } from "./models/rnade.js";
export { createServer, type CreateServerOptions, type DeepgenServer } from "./serve/server.js";
export { deepgenPlugin, type DeepgenPluginOptions } from "./serve/plugin.js";
export type { ServeOptions } from "./serve/options.js";
export type { ModelSource, ServableModel, LoadReport } from "./serve/models.js";
export { ServeState } from "./serve/state.js";
