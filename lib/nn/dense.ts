/**
 * Dense (fully connected) layers over the Kernels interface, with explicit forward/backward
 * and explicit buffers, for the models that compose MLPs (VAE, AAE, later the GANs).
 *
 *   forward:  x [n, in] -> y [n, out] = f(x W^T + b),   W [out, in] (PyTorch layout), b [out]
 *   backward: dy [n, out] -> dpre = dy f'(.) (from y), dW = dpre^T x, db = sum_n dpre,
 *             dx [n, in] = dpre W
 *
 * Parameters are Float32Arrays owned by the layer and exposed by name (for Adam and for
 * safetensors files); gradients are overwritten by each backward (never accumulated).
 * Buffers grow to the largest batch seen; the arrays returned by forward / backward are views
 * into them, valid until the layer's next call.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import type { Kernels } from "../kernels/kernels.js";
import type { PreparedLayer } from "../kernels/ops/prepared-net.js";
import { denseLayer } from "./inference-layers.js";
import { uniformInit } from "./init.js";

export interface DenseInit {
  /** Philox seed and stream of the Glorot-uniform weights; biases start at 0. */
  seed: number;
  stream: number;
}

export class Dense {
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly dw: Float32Array;
  readonly db: Float32Array;
  private y = new Float32Array(0);
  private dpre = new Float32Array(0);
  private dx = new Float32Array(0);

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly activation: ActivationKind,
    init: DenseInit | { w: Float32Array; b: Float32Array },
  ) {
    checkInteger("Dense inDim", inDim, 1);
    checkInteger("Dense outDim", outDim, 1);
    if ("w" in init) {
      if (init.w.length !== inDim * outDim || init.b.length !== outDim) {
        throw new DeepgenError("E_SHAPE", `Dense: W must be [${outDim}, ${inDim}] and b [${outDim}]`);
      }
      this.w = init.w;
      this.b = init.b;
    } else {
      this.w = uniformInit(inDim * outDim, init.seed, init.stream, Math.sqrt(6 / (inDim + outDim)));
      this.b = new Float32Array(outDim);
    }
    this.dw = new Float32Array(this.w.length);
    this.db = new Float32Array(this.b.length);
  }

  private ensure(n: number): void {
    if (this.y.length < n * this.outDim) {
      this.y = new Float32Array(n * this.outDim);
      this.dpre = new Float32Array(n * this.outDim);
    }
  }

  /** y [n, out] = f(x [n, in] W^T + b); returns a view valid until the next forward. */
  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    if (x.length !== n * this.inDim)
      throw new DeepgenError("E_SHAPE", `Dense.forward: x has ${x.length} values, expected ${n} x ${this.inDim}`);
    this.ensure(n);
    const y = this.y.subarray(0, n * this.outDim);
    if (n === 0) return y;
    k.gemm({ a: x, b: this.w, c: y, m: n, n: this.outDim, k: this.inDim, transB: true });
    k.biasActivationForward(this.activation, y, this.b, y, n, this.outDim, 1);
    return y;
  }

  /**
   * Gradients of the forward that produced y from x: writes dw, db and returns dx [n, in]
   * (null when needDx is false: the first layer of a network needs no input gradient).
   */
  backward(k: Kernels, x: Float32Array, y: Float32Array, dy: Float32Array, n: number, needDx = true): Float32Array | null {
    this.ensure(n);
    const dpre = this.dpre.subarray(0, n * this.outDim);
    k.biasActivationBackward(this.activation, y, dy, dpre, this.db, n, this.outDim, 1);
    if (n === 0) this.dw.fill(0);
    else k.gemm({ a: dpre, b: x, c: this.dw, m: this.outDim, n: this.inDim, k: n, transA: true });
    if (!needDx) return null;
    if (this.dx.length < n * this.inDim) this.dx = new Float32Array(n * this.inDim);
    const dx = this.dx.subarray(0, n * this.inDim);
    if (n > 0) k.gemm({ a: dpre, b: this.w, c: dx, m: n, n: this.inDim, k: this.outDim });
    return dx;
  }

  paramCount(): number {
    return this.w.length + this.b.length;
  }
}

export interface MlpSpec {
  /** Layer widths, input first: [in, h1, ..., out]. */
  sizes: readonly number[];
  /** Activation of the hidden layers. */
  hidden: ActivationKind;
  /** Activation of the output layer (often identity: logits, means). */
  output: ActivationKind;
}

/**
 * A stack of Dense layers. Parameters are named `${name}.${i}.w` / `${name}.${i}.b`; forward
 * keeps every layer's input and output for the backward of the same batch.
 */
export class Mlp {
  readonly layers: Dense[];
  private inputs: Float32Array[] = [];
  private outputs: Float32Array[] = [];

  constructor(
    readonly name: string,
    readonly spec: MlpSpec,
    init: { seed: number; stream: number } | Record<string, Float32Array>,
  ) {
    if (spec.sizes.length < 2) throw new DeepgenError("E_ARG", `${name}: an MLP needs at least an input and an output size`);
    this.layers = [];
    for (let i = 0; i + 1 < spec.sizes.length; i++) {
      const act = i + 2 === spec.sizes.length ? spec.output : spec.hidden;
      const layerInit =
        "seed" in init && typeof init.seed === "number"
          ? { seed: init.seed, stream: (init.stream as number) + i }
          : {
              w: this.tensor(init as Record<string, Float32Array>, `${name}.${i}.w`),
              b: this.tensor(init as Record<string, Float32Array>, `${name}.${i}.b`),
            };
      this.layers.push(new Dense(spec.sizes[i]!, spec.sizes[i + 1]!, act, layerInit));
    }
  }

  private tensor(t: Record<string, Float32Array>, key: string): Float32Array {
    const a = t[key];
    if (a === undefined) throw new DeepgenError("E_FORMAT", `missing tensor ${key}`);
    return a;
  }

  get inDim(): number {
    return this.spec.sizes[0]!;
  }

  get outDim(): number {
    return this.spec.sizes[this.spec.sizes.length - 1]!;
  }

  inferenceLayers(): PreparedLayer[] {
    return this.layers.map((l) => denseLayer(l.w, l.b, l.inDim, l.outDim, l.activation));
  }

  /** Floats a forward pass allocates per row: each layer's output and its backward scratch. */
  forwardFloatsPerRow(): number {
    return this.layers.reduce((a, l) => a + 2 * l.outDim, 0);
  }

  /** Output [n, out]: a view valid until the next forward. */
  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    this.inputs = [];
    this.outputs = [];
    let h = x;
    for (const layer of this.layers) {
      this.inputs.push(h);
      h = layer.forward(k, h, n);
      this.outputs.push(h);
    }
    return h;
  }

  /** Backward of the last forward: writes every layer's gradients; returns dx [n, in] when needDx. */
  backward(k: Kernels, dy: Float32Array, n: number, needDx = false): Float32Array | null {
    if (this.outputs.length !== this.layers.length) throw new DeepgenError("E_ARG", `${this.name}: backward without a forward`);
    let g: Float32Array | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i]!.backward(k, this.inputs[i]!, this.outputs[i]!, g!, n, i > 0 || needDx);
    }
    return g;
  }

  /** Parameters by name (the very arrays the layers use). */
  params(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    this.layers.forEach((l, i) => {
      out[`${this.name}.${i}.w`] = l.w;
      out[`${this.name}.${i}.b`] = l.b;
    });
    return out;
  }

  /** Gradients by the parameters' names. */
  grads(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    this.layers.forEach((l, i) => {
      out[`${this.name}.${i}.w`] = l.dw;
      out[`${this.name}.${i}.b`] = l.db;
    });
    return out;
  }

  /** Shapes of the parameters for files: W [out, in], b [out]. */
  shapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.layers.forEach((l, i) => {
      out[`${this.name}.${i}.w`] = [l.outDim, l.inDim];
      out[`${this.name}.${i}.b`] = [l.outDim];
    });
    return out;
  }

  paramCount(): number {
    return this.layers.reduce((s, l) => s + l.paramCount(), 0);
  }
}
