/**
 * A small builder of ONNX graphs (opset 17): named inputs and outputs with a dynamic batch
 * dimension, float32 weights as initializers, and one helper per layer the exporters need
 * (dense, conv, transposed conv, batch norm in inference form, activations, reshape, slice).
 * Every helper takes value names and returns the name of its output, so an exporter reads as
 * the forward pass it mirrors:
 *
 *   const g = new GraphBuilder("vae-decoder");
 *   let h = g.input("z", ["N", 32]);
 *   h = g.activation(g.dense(h, w, b, 500, 32), "relu");
 *   ...
 *   g.output(g.sigmoid(h, "images"), ["N", 1, 28, 28]);
 *   const bytes = g.toBytes(metadata);
 *
 * Layouts are PyTorch's (which are also deepgen's): dense W [out, in]; conv W [Cout, Cin, kH,
 * kW]; transposed conv W [Cin, Cout, kH, kW]; activations NCHW.
 */
import { DeepgenError } from "../core/errors.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import { DEFAULT_LEAKY_SLOPE } from "../kernels/ops/activation.js";
import { IR_VERSION, OPSET, onnx, type OnnxTypes } from "./proto.js";

/** A dimension: a fixed size, or a symbolic name (the dynamic batch is "N"). */
export type Dim = number | string;

type AttrValue = number | number[] | { float: number } | string;

export interface ConvOptions {
  kernel: [number, number];
  stride?: [number, number];
  pad?: [number, number];
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // A copy: the model must not change when the caller's weights do (training continues).
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function valueInfo(name: string, dims: readonly Dim[], elemType: number = onnx.TensorProto.DataType.FLOAT): OnnxTypes.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

function attribute(name: string, v: AttrValue): OnnxTypes.AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === "object") return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: T.INT, i: v });
}

export class GraphBuilder {
  private readonly nodes: OnnxTypes.NodeProto[] = [];
  private readonly inputs: OnnxTypes.ValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.ValueInfoProto[] = [];
  private readonly initializers: OnnxTypes.TensorProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with a readable stem (weights and intermediate values alike). */
  fresh(stem: string): string {
    let name = stem;
    while (this.names.has(name)) name = `${stem}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new DeepgenError("E_ARG", `ONNX graph ${this.name}: the name '${name}' is used twice`);
    this.names.add(name);
    return name;
  }

  /** A graph input, float32 unless told (int64: token ids, indices); batch dimensions are symbolic ("N"). */
  input(name: string, dims: readonly Dim[], type: "float32" | "int64" = "float32"): string {
    const T = onnx.TensorProto.DataType;
    this.inputs.push(valueInfo(this.claim(name), dims, type === "int64" ? T.INT64 : T.FLOAT));
    return name;
  }

  /** Declares `value` (already produced by a node) as a graph output with these dims. */
  output(value: string, dims: readonly Dim[]): string {
    this.outputs.push(valueInfo(value, dims));
    return value;
  }

  /** A float32 initializer (weights); the data is copied. */
  weight(stem: string, data: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new DeepgenError("E_SHAPE", `ONNX initializer ${stem}: ${data.length} values for dims [${dims.join(", ")}]`);
    const name = this.fresh(stem);
    this.initializers.push(
      onnx.TensorProto.create({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(data) }),
    );
    return name;
  }

  /** A float32 scalar constant (rank 0). */
  scalar(stem: string, value: number): string {
    const name = this.fresh(stem);
    this.initializers.push(
      onnx.TensorProto.create({ name, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(Float32Array.of(value)) }),
    );
    return name;
  }

  /** An int64 1-D constant (shapes, axes, indices). */
  int64s(stem: string, values: readonly number[]): string {
    const name = this.fresh(stem);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: onnx.TensorProto.DataType.INT64,
        rawData: bytesOf(BigInt64Array.from(values.map(BigInt))),
      }),
    );
    return name;
  }

  /** An int64 scalar constant (rank 0: CumSum's axis). */
  int64Scalar(stem: string, value: number): string {
    const name = this.fresh(stem);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [],
        dataType: onnx.TensorProto.DataType.INT64,
        rawData: bytesOf(BigInt64Array.of(BigInt(value))),
      }),
    );
    return name;
  }

  /** One node; returns its (single) output name. `out` fixes the output's name (graph outputs). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out === undefined ? this.fresh(opType.toLowerCase()) : this.claim(out);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: this.fresh(`${opType}_node`),
        input: [...inputs],
        output: [output],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return output;
  }

  // ---- layers ----

  /** x [N, in] -> x W^T + b [N, out] (Gemm, transB = 1), W [out, in] as deepgen's Dense. */
  dense(x: string, w: Float32Array, b: Float32Array, outDim: number, inDim: number, stem = "dense", out?: string): string {
    if (b.length !== outDim) throw new DeepgenError("E_SHAPE", `ONNX dense ${stem}: bias has ${b.length} values, expected ${outDim}`);
    return this.node("Gemm", [x, this.weight(`${stem}.w`, w, [outDim, inDim]), this.weight(`${stem}.b`, b, [outDim])], { transB: 1 }, out);
  }

  /** Conv, W [Cout, Cin, kH, kW], optional bias [Cout]. */
  conv(x: string, w: Float32Array, b: Float32Array | null, cout: number, cin: number, o: ConvOptions, stem = "conv", out?: string): string {
    const [kh, kw] = o.kernel;
    const ins = [x, this.weight(`${stem}.w`, w, [cout, cin, kh, kw])];
    if (b !== null) ins.push(this.weight(`${stem}.b`, b, [cout]));
    return this.node("Conv", ins, this.convAttrs(o), out);
  }

  /** ConvTranspose, W [Cin, Cout, kH, kW] (PyTorch's and deepgen's layout), optional bias [Cout]. */
  convTranspose(
    x: string,
    w: Float32Array,
    b: Float32Array | null,
    cin: number,
    cout: number,
    o: ConvOptions,
    stem = "convT",
    out?: string,
  ): string {
    const [kh, kw] = o.kernel;
    const ins = [x, this.weight(`${stem}.w`, w, [cin, cout, kh, kw])];
    if (b !== null) ins.push(this.weight(`${stem}.b`, b, [cout]));
    return this.node("ConvTranspose", ins, this.convAttrs(o), out);
  }

  private convAttrs(o: ConvOptions): Record<string, AttrValue> {
    const [sh, sw] = o.stride ?? [1, 1];
    const [ph, pw] = o.pad ?? [0, 0];
    return { kernel_shape: [...o.kernel], strides: [sh, sw], pads: [ph, pw, ph, pw] };
  }

  /**
   * BatchNormalization in inference form (running statistics; opset 15 semantics, no
   * training outputs): y = gamma (x - mean) / sqrt(var + eps) + beta over channel axis 1.
   */
  batchNormalization(
    x: string,
    gamma: Float32Array,
    beta: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    eps: number,
    stem = "bn",
    out?: string,
  ): string {
    const c = gamma.length;
    for (const [n, a] of [
      ["beta", beta],
      ["mean", mean],
      ["var", variance],
    ] as const) {
      if (a.length !== c) throw new DeepgenError("E_SHAPE", `ONNX batch norm ${stem}: ${n} has ${a.length} values, gamma ${c}`);
    }
    const ins = [
      x,
      this.weight(`${stem}.gamma`, gamma, [c]),
      this.weight(`${stem}.beta`, beta, [c]),
      this.weight(`${stem}.mean`, mean, [c]),
      this.weight(`${stem}.var`, variance, [c]),
    ];
    return this.node("BatchNormalization", ins, { epsilon: { float: eps } }, out);
  }

  relu(x: string, out?: string): string {
    return this.node("Relu", [x], {}, out);
  }

  leakyRelu(x: string, slope = DEFAULT_LEAKY_SLOPE, out?: string): string {
    return this.node("LeakyRelu", [x], { alpha: { float: slope } }, out);
  }

  tanh(x: string, out?: string): string {
    return this.node("Tanh", [x], {}, out);
  }

  sigmoid(x: string, out?: string): string {
    return this.node("Sigmoid", [x], {}, out);
  }

  /** softplus(x) = max(x, 0) + log(1 + exp(-|x|)): stable for any x, unlike a naive log(1 + exp(x)). */
  softplus(x: string, out?: string): string {
    const tail = this.node("Log", [
      this.node("Add", [this.node("Exp", [this.node("Neg", [this.node("Abs", [x])])]), this.scalar("one", 1)]),
    ]);
    return this.node("Add", [this.relu(x), tail], {}, out);
  }

  /** deepgen's activation kinds (lib/kernels/ops/activation.ts); identity adds no node unless `out` names the result. */
  activation(x: string, kind: ActivationKind, out?: string, slope = DEFAULT_LEAKY_SLOPE): string {
    switch (kind) {
      case "identity":
        return out === undefined ? x : this.node("Identity", [x], {}, out);
      case "relu":
        return this.relu(x, out);
      case "leakyRelu":
        return this.leakyRelu(x, slope, out);
      case "tanh":
        return this.tanh(x, out);
      case "sigmoid":
        return this.sigmoid(x, out);
      case "softplus":
        return this.softplus(x, out);
      default:
        throw new DeepgenError("E_ARG", `ONNX export: no mapping for activation '${String(kind)}'`);
    }
  }

  /** Reshape to `shape` (-1: the batch, inferred; 0 copies the input's dimension). */
  reshape(x: string, shape: readonly number[], out?: string): string {
    return this.node("Reshape", [x, this.int64s("shape", shape)], {}, out);
  }

  /** Columns [start, end) along `axis` (Slice-13 with constant starts / ends / axes). */
  slice(x: string, axis: number, start: number, end: number, out?: string): string {
    return this.node("Slice", [x, this.int64s("starts", [start]), this.int64s("ends", [end]), this.int64s("axes", [axis])], {}, out);
  }

  /** Sum over `axes` (ReduceSum-13: axes as an input). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean, out?: string): string {
    return this.node("ReduceSum", [x, this.int64s("axes", axes)], { keepdims: keepdims ? 1 : 0 }, out);
  }

  /** Inserts size-1 dimensions at `axes` (Unsqueeze-13: axes as an input). */
  unsqueeze(x: string, axes: readonly number[], out?: string): string {
    return this.node("Unsqueeze", [x, this.int64s("axes", axes)], {}, out);
  }

  // ---- model ----

  /**
   * The ModelProto: IR 8, opset 17, metadata as metadata_props (string -> string).
   * @internal onnx-proto's types need protobufjs's Long, which users' TypeScript may lack: the
   * published declarations keep to toBytes.
   */
  toModel(metadata: Record<string, string> = {}, producerVersion = ""): OnnxTypes.ModelProto {
    if (this.outputs.length === 0) throw new DeepgenError("E_ARG", `ONNX graph ${this.name} has no output`);
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: "deepgen",
      producerVersion,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: OPSET })],
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      }),
      metadataProps: Object.entries(metadata).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
    });
  }

  /** Serialized ModelProto bytes. */
  toBytes(metadata: Record<string, string> = {}, producerVersion = ""): Uint8Array {
    return onnx.ModelProto.encode(this.toModel(metadata, producerVersion)).finish();
  }
}
