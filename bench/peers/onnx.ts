/**
 * onnxruntime-node as a benchmark peer: builds one-node ONNX graphs (MatMul, Conv,
 * ConvTranspose) and small multi-node graphs (conv blocks) with onnx-proto and times them with the same shapes and thread count as
 * the native kernels.
 */
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";

import { timeMsAsync } from "../report.js";

const { onnx } = onnxProto;

export interface GraphInput {
  name: string;
  dims: number[];
}

export interface GraphInitializer {
  name: string;
  dims: number[];
  /** float32 weights, or int64 (e.g. a Reshape's target shape). */
  data: Float32Array | BigInt64Array;
}

function tensorProto(i: GraphInitializer) {
  const dataType = i.data instanceof BigInt64Array ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT;
  return onnx.TensorProto.create({
    name: i.name,
    dims: i.dims,
    dataType,
    rawData: new Uint8Array(i.data.buffer, i.data.byteOffset, i.data.byteLength),
  });
}

function valueInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }),
      }),
    }),
  });
}

function intsAttr(name: string, ints: number[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
}

/** Serialized ONNX model (opset 13) with one node. */
export function oneNodeModel(
  opType: string,
  inputs: GraphInput[],
  initializers: GraphInitializer[],
  output: GraphInput,
  attributes: Record<string, number[]> = {},
): Uint8Array {
  const node = onnx.NodeProto.create({
    opType,
    input: [...inputs.map((i) => i.name), ...initializers.map((i) => i.name)],
    output: [output.name],
    attribute: Object.entries(attributes).map(([k, v]) => intsAttr(k, v)),
  });
  const graph = onnx.GraphProto.create({
    name: `${opType}-bench`,
    node: [node],
    input: inputs.map((i) => valueInfo(i.name, i.dims)),
    output: [valueInfo(output.name, output.dims)],
    initializer: initializers.map(tensorProto),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "deepgen-bench",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** One node of a multi-node graph: attributes are int lists or single floats. */
export interface GraphNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number[] | number>;
}

function floatAttr(name: string, f: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
}

/** Serialized ONNX model (opset 13) running `nodes` in order, from `inputs` to `output`. */
export function graphModel(nodes: GraphNode[], inputs: GraphInput[], initializers: GraphInitializer[], output: GraphInput): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: "block-bench",
    node: nodes.map((n) =>
      onnx.NodeProto.create({
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => (typeof v === "number" ? floatAttr(k, v) : intsAttr(k, v))),
      }),
    ),
    input: inputs.map((i) => valueInfo(i.name, i.dims)),
    output: [valueInfo(output.name, output.dims)],
    initializer: initializers.map(tensorProto),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "deepgen-bench",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export async function ortSession(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
}

export function ortTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor("float32", data, dims);
}

/** Median ms of session.run over `repeats` runs after one warm-up. */
export function timeOrt(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, repeats = 5): Promise<number> {
  return timeMsAsync(() => session.run(feeds), repeats);
}
