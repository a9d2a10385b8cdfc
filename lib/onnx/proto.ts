/**
 * The ONNX protobuf schema (onnx-proto 8: ONNX 1.10's onnx.proto compiled for protobufjs).
 * The schema of IR version 8 is unchanged up to ONNX 1.13, so it writes and reads opset 17
 * models (ONNX 1.12: IR 8, opset 17) as faithfully as the newer onnx.proto would; operator
 * versions are a property of the opset import, not of the schema.
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

export const onnx = onnxProto.onnx;
export type { OnnxTypes };

/** IR version written: 8 is what opset 17 (ONNX 1.12) pairs with. */
export const IR_VERSION = 8;
/** Default-domain opset written by every deepgen exporter. */
export const OPSET = 17;
