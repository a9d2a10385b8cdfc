/**
 * deepgen/metrics: likelihood reports, sample quality (classifier-FID, coverage), FID, GAN
 * diagnostics on toy data, generator densities, and the text-to-image scores.
 */
export { testLikelihood, type LikelihoodReport } from "../models/evaluate.js";
export { fid, frechetDistance, gaussianStats, type GaussianStats } from "../models/fid.js";
export {
  sampleQuality,
  classCoverage,
  coverageFromPredictions,
  features,
  type ClassCoverage,
  type QualityOptions,
  type SampleQuality,
} from "../models/sample-quality.js";
export { sampleImages, SAMPLE_DOMAINS, type ImageSampler, type SampleDomain, type SampledImages } from "../models/sample-images.js";
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
} from "../models/gan-diagnostics.js";
export {
  estimateGeneratorDensity,
  exactKde2d,
  defaultGridSize,
  type DensityEstimateOptions,
  type DensityFunction,
  type GeneratorDensity,
  type Grid2d,
} from "../models/generator-density.js";
export {
  judgeCeiling,
  readingScores,
  scoreGenerator,
  type CaptionedGenerator,
  type CeilingReport,
  type GeneratedReport,
  type ReadingScores,
} from "../models/text2image-metrics.js";
export { meanNll } from "../models/nade.js";
