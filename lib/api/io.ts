/** deepgen/io: safetensors and model files, PNG grids and plots, model cards. */
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
} from "../io/safetensors.js";
export { loadModelFile, saveModelFile, type ModelFile } from "../io/model-file.js";
export { imageGrid, writeImageGrid, writePng, encodePng, type Raster, type GridOptions } from "../io/png.js";
export { linePlot, type Series, type PlotOptions } from "../io/plot.js";
export { scatterPlot, type PointGroup, type ScatterOptions } from "../io/scatter.js";
export { heatmap, type HeatmapOptions } from "../io/heatmap.js";
export { writeCard, writeCurve, readCardOf, type CardRun, type CardSource, type ModelCard, type TrainingCurve } from "../models/card.js";
export { densityCard, densityCurve, type DensityCardRun } from "../models/density-card.js";
export {
  latentCard,
  latentCurve,
  vaeReport,
  aaeReport,
  type LatentCardRun,
  type VaeReport,
  type AaeReport,
} from "../models/latent-card.js";
export { ganCard, ganLossCurve, ganFidCurve, type GanCardRun } from "../models/gan-card.js";
export { classifierCard, classifierCurve, type ClassifierCardRun } from "../models/classifier-card.js";
export {
  discriminatorPlot,
  jsdCurvePlot,
  samplesPlot,
  type DiscriminatorPlotOptions,
  type JsdRecord,
} from "../models/gan-diagnostic-plots.js";
