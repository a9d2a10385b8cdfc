/** ONNX: export of deepgen models (onnx-proto) and running any ONNX model (onnxruntime-node, optional). */
export { GraphBuilder } from "./graph-builder.js";
export { exportOnnx, exportableGraphs, writeOnnx, type ExportOptions } from "./export.js";
export { readDeepgenMetadata, type DeepgenOnnxMetadata } from "./metadata.js";
export { OnnxModel, type OnnxModelOptions, type OnnxValueInfo } from "./model.js";
export { OnnxGenerator, type GeneratedImages, type OnnxGeneratorOptions } from "./generator.js";
export { OnnxTextToImage, type OnnxTextToImageGenerateOptions, type OnnxTextToImageImages } from "./text2image.js";
export { onnxRuntimeAvailable, setOnnxRuntimeLoader } from "./runtime.js";
