/**
 * Small convolutional encoder / decoder networks over the conv kernels, with the same
 * surface as Mlp (lib/nn/dense.ts): explicit forward / backward over a batch, parameters and
 * gradients by name (`${name}.${i}.w` / `.b`), shapes for files.
 *
 *   ConvEncoder: x [n, 1, H, W] -> conv 4x4 /2 (c0) -> act -> conv 4x4 /2 (c1) -> act
 *                [-> more halving convs, one per further channel count]
 *                -> dense -> [n, out]                        (H, W multiples of 2^convs)
 *   ConvDecoder: z [n, in] -> dense -> act -> [n, c0, H/4, W/4] -> convT 4x4 x2 (c1) -> act
 *                -> convT 4x4 x2 (1) -> [n, H * W] logits
 * (the DCGAN-style shapes of Radford et al. 2016, without batch norm). Conv layers: padding 1,
 * so 4x4 stride 2 halves (conv) or doubles (convT) each side. Weights start Glorot-uniform
 * (fan in / out counting the kernel taps), biases 0.
 */
import { DeepgenError } from "../core/errors.js";
import type { Kernels } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import type { Conv2dShape, ConvTranspose2dShape } from "../kernels/ops/conv.js";
import type { PreparedLayer } from "../kernels/ops/prepared-net.js";
import { convTLayer, denseLayer } from "./inference-layers.js";
import { uniformInit } from "./init.js";
import { Dense } from "./dense.js";

/** What the models need of a network (Mlp, ConvEncoder, ConvDecoder). */
export interface Net {
  readonly name: string;
  readonly inDim: number;
  readonly outDim: number;
  forward(k: Kernels, x: Float32Array, n: number): Float32Array;
  backward(k: Kernels, dy: Float32Array, n: number, needDx?: boolean): Float32Array | null;
  params(): Record<string, Float32Array>;
  grads(): Record<string, Float32Array>;
  shapes(): Record<string, number[]>;
  paramCount(): number;
  /** Nets with batch norm: training (batch statistics) or evaluation (running statistics). */
  setTraining?(training: boolean): void;
  /** State that is saved but not trained (batch norm running statistics), by name with shapes. */
  buffers?(): Record<string, { shape: number[]; data: Float32Array }>;
  /** Floats a forward pass allocates per row (each layer's output and its backward scratch), for memory estimates. */
  forwardFloatsPerRow?(): number;
  /**
   * The evaluation-mode forward as prepared-network layers (lib/nn/inference-layers.ts), or
   * undefined when the network has layers a prepared network does not run (strided convs).
   */
  inferenceLayers?(): PreparedLayer[] | undefined;
}

export interface ConvNetSpec {
  height: number;
  width: number;
  /**
   * Channels of the conv layers: the decoder's two (after the dense, after the first convT);
   * the encoder's, in order (two unless a deeper encoder is asked for).
   */
  channels: readonly number[];
  /** Encoder: output size; decoder: input (latent) size. */
  latentSide: number;
  activation: ActivationKind;
  /** Encoder only: activation of the final dense layer (default identity; the classifier's features use relu). */
  outputActivation?: ActivationKind;
}

type Init = { seed: number; stream: number };

/** One 4x4, stride-2, pad-1 conv (halving) or transposed conv (doubling) with a fused bias + activation. */
class ConvLayer {
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly dw: Float32Array;
  readonly db: Float32Array;
  private y = new Float32Array(0);
  private dpre = new Float32Array(0);
  private dx = new Float32Array(0);

  constructor(
    readonly transposed: boolean,
    readonly cin: number,
    readonly cout: number,
    readonly side: [number, number], // input height, width
    readonly activation: ActivationKind,
    init: Init,
  ) {
    const r = Math.sqrt(6 / ((cin + cout) * 16));
    this.w = uniformInit(cin * cout * 16, init.seed, init.stream, r);
    this.b = new Float32Array(cout);
    this.dw = new Float32Array(this.w.length);
    this.db = new Float32Array(cout);
  }

  get outSide(): [number, number] {
    const [h, w] = this.side;
    return this.transposed ? [2 * h, 2 * w] : [h / 2, w / 2];
  }

  get inSize(): number {
    return this.cin * this.side[0] * this.side[1];
  }

  get outSize(): number {
    const [h, w] = this.outSide;
    return this.cout * h * w;
  }

  private shape(n: number): Conv2dShape & ConvTranspose2dShape {
    return {
      batch: n,
      inChannels: this.cin,
      height: this.side[0],
      width: this.side[1],
      outChannels: this.cout,
      kernelH: 4,
      kernelW: 4,
      strideH: 2,
      strideW: 2,
      padH: 1,
      padW: 1,
    };
  }

  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    if (this.y.length < n * this.outSize) {
      this.y = new Float32Array(n * this.outSize);
      this.dpre = new Float32Array(n * this.outSize);
    }
    const y = this.y.subarray(0, n * this.outSize);
    if (n === 0) return y;
    if (this.transposed) k.convTranspose2dForward(this.shape(n), x, this.w, null, y);
    else k.conv2dForward(this.shape(n), x, this.w, null, y);
    const [h, w] = this.outSide;
    k.biasActivationForward(this.activation, y, this.b, y, n, this.cout, h * w);
    return y;
  }

  backward(k: Kernels, x: Float32Array, y: Float32Array, dy: Float32Array, n: number, needDx: boolean): Float32Array | null {
    const [h, w] = this.outSide;
    const dpre = this.dpre.subarray(0, n * this.outSize);
    k.biasActivationBackward(this.activation, y, dy, dpre, this.db, n, this.cout, h * w);
    if (n === 0) {
      this.dw.fill(0);
      return needDx ? new Float32Array(0) : null;
    }
    if (this.transposed) k.convTranspose2dBackwardWeight(this.shape(n), x, dpre, this.dw, null);
    else k.conv2dBackwardWeight(this.shape(n), x, dpre, this.dw, null);
    if (!needDx) return null;
    if (this.dx.length < n * this.inSize) this.dx = new Float32Array(n * this.inSize);
    const dx = this.dx.subarray(0, n * this.inSize);
    if (this.transposed) k.convTranspose2dBackwardData(this.shape(n), dpre, this.w, dx);
    else k.conv2dBackwardData(this.shape(n), dpre, this.w, dx);
    return dx;
  }

  weightShape(): number[] {
    return this.transposed ? [this.cin, this.cout, 4, 4] : [this.cout, this.cin, 4, 4];
  }
}

type AnyLayer = { kind: "dense"; layer: Dense } | { kind: "conv"; layer: ConvLayer };

/** A chain of conv and dense layers run in order (the base of both networks). */
abstract class Chain implements Net {
  protected layers: AnyLayer[] = [];
  private inputs: Float32Array[] = [];
  private outputs: Float32Array[] = [];

  constructor(
    readonly name: string,
    readonly inDim: number,
    readonly outDim: number,
  ) {}

  forwardFloatsPerRow(): number {
    return this.layers.reduce((a, l) => a + 2 * (l.kind === "conv" ? l.layer.outSize : l.layer.outDim), 0);
  }

  inferenceLayers(): PreparedLayer[] | undefined {
    const out: PreparedLayer[] = [];
    for (const { kind, layer: l } of this.layers) {
      if (kind === "dense") out.push(denseLayer(l.w, l.b, l.inDim, l.outDim, l.activation));
      else if (l.transposed) out.push(convTLayer(l.w, l.b, l.cin, l.cout, l.side, l.activation));
      else return undefined;
    }
    return out;
  }

  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    if (x.length !== n * this.inDim)
      throw new DeepgenError("E_SHAPE", `${this.name}: input has ${x.length} values, expected ${n} x ${this.inDim}`);
    this.inputs = [];
    this.outputs = [];
    let h = x;
    for (const l of this.layers) {
      this.inputs.push(h);
      h = l.layer.forward(k, h, n);
      this.outputs.push(h);
    }
    return h;
  }

  backward(k: Kernels, dy: Float32Array, n: number, needDx = false): Float32Array | null {
    if (this.outputs.length !== this.layers.length) throw new DeepgenError("E_ARG", `${this.name}: backward without a forward`);
    let g: Float32Array | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      g = l.layer.backward(k, this.inputs[i]!, this.outputs[i]!, g!, n, i > 0 || needDx);
    }
    return g;
  }

  params(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    this.layers.forEach((l, i) => {
      out[`${this.name}.${i}.w`] = l.layer.w;
      out[`${this.name}.${i}.b`] = l.layer.b;
    });
    return out;
  }

  grads(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    this.layers.forEach((l, i) => {
      out[`${this.name}.${i}.w`] = l.layer.dw;
      out[`${this.name}.${i}.b`] = l.layer.db;
    });
    return out;
  }

  shapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.layers.forEach((l, i) => {
      out[`${this.name}.${i}.w`] = l.kind === "dense" ? [l.layer.outDim, l.layer.inDim] : l.layer.weightShape();
      out[`${this.name}.${i}.b`] = [l.layer.b.length];
    });
    return out;
  }

  paramCount(): number {
    return this.layers.reduce((s, l) => s + l.layer.w.length + l.layer.b.length, 0);
  }
}

function checkSpec(name: string, s: ConvNetSpec, convs: number): void {
  const m = 2 ** convs;
  if (s.height % m !== 0 || s.width % m !== 0 || s.height < m || s.width < m) {
    throw new DeepgenError(
      "E_ARG",
      `${name}: ${convs} halving conv layers need image sides that are multiples of ${m}, got ${s.height}x${s.width}`,
    );
  }
  if (!s.channels.every((c) => Number.isInteger(c) && c >= 1 && c <= 4096))
    throw new DeepgenError("E_ARG", `${name}: channels must be integers in [1, 4096]`);
}

export class ConvEncoder extends Chain {
  constructor(
    name: string,
    readonly spec: ConvNetSpec,
    init: Init,
  ) {
    if (spec.channels.length < 1) throw new DeepgenError("E_ARG", `${name}: an encoder needs at least one conv layer`);
    checkSpec(name, spec, spec.channels.length);
    super(name, spec.height * spec.width, spec.latentSide);
    let cin = 1;
    let side: [number, number] = [spec.height, spec.width];
    let size = spec.height * spec.width;
    for (const [i, cout] of spec.channels.entries()) {
      const conv = new ConvLayer(false, cin, cout, side, spec.activation, { seed: init.seed, stream: init.stream + i });
      this.layers.push({ kind: "conv", layer: conv });
      [cin, side, size] = [cout, conv.outSide, conv.outSize];
    }
    const dense = new Dense(size, spec.latentSide, spec.outputActivation ?? "identity", {
      seed: init.seed,
      stream: init.stream + spec.channels.length,
    });
    this.layers.push({ kind: "dense", layer: dense });
  }
}

export class ConvDecoder extends Chain {
  constructor(
    name: string,
    readonly spec: ConvNetSpec,
    init: Init,
  ) {
    if (spec.channels.length !== 2) throw new DeepgenError("E_ARG", `${name}: a decoder has two conv channel counts`);
    checkSpec(name, spec, 2);
    super(name, spec.latentSide, spec.height * spec.width);
    const [c0, c1] = spec.channels as [number, number];
    const side: [number, number] = [spec.height / 4, spec.width / 4];
    const dense = new Dense(spec.latentSide, c0 * side[0] * side[1], spec.activation, { seed: init.seed, stream: init.stream });
    const up0 = new ConvLayer(true, c0, c1, side, spec.activation, { seed: init.seed, stream: init.stream + 1 });
    const up1 = new ConvLayer(true, c1, 1, up0.outSide, "identity", { seed: init.seed, stream: init.stream + 2 });
    this.layers = [
      { kind: "dense", layer: dense },
      { kind: "conv", layer: up0 },
      { kind: "conv", layer: up1 },
    ];
  }
}
