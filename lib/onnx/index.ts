/** ONNX: export of deepgen models (onnx-proto) and running any ONNX model (onnxruntime-node, optional). */
export { GraphBuilder, type ConvOptions, type Dim } from "./graph-builder.js";
export { mlpGraph, convEncoderGraph, convDecoderGraph, netGraph } from "./nets.js";
export { exportOnnx, exportableGraphs, writeOnnx, type ExportOptions, type RunInfo } from "./export.js";
export { exportVaeDecoder, exportVaeEncoder } from "./export-vae.js";
export { exportAaeDecoder } from "./export-aae.js";
export { exportNadeLogProb } from "./export-nade.js";
export {
  cardInfo,
  onnxMetadata,
  readDeepgenMetadata,
  type DeepgenOnnxMetadata,
  type ExportInfo,
  type GraphRole,
  type ImageLayout,
  type ImageRange,
  type ImageSpec,
  type LatentSpec,
} from "./metadata.js";
export { OnnxModel, parseOnnx, type FloatFeed, type OnnxModelOptions, type OnnxValueInfo } from "./model.js";
export { OnnxGenerator, DEFAULT_LATENT, type GeneratedImages, type OnnxGeneratorOptions } from "./generator.js";
export { loadOnnxRuntime, onnxRuntimeAvailable, setOnnxRuntimeLoader, INSTALL_HINT, type OrtModule } from "./runtime.js";
export { IR_VERSION, OPSET } from "./proto.js";
