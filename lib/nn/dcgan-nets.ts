/**
 * The DCGAN networks (Radford et al. 2016) for one-channel images whose sides are multiples of 4:
 *
 *   DcganGenerator:     z [n, zdim] -> dense -> [c0, H/4, W/4] -> BN -> ReLU
 *                       -> convT 4x4 /2 (c1) -> BN -> ReLU -> convT 4x4 /2 (1) -> tanh -> [n, H*W]
 *   DcganDiscriminator: x [n, H*W] -> conv 4x4 /2 (d0) -> LeakyReLU(0.2)
 *                       -> conv 4x4 /2 (d1) (-> BN) -> LeakyReLU(0.2) (-> minibatch stddev)
 *                       -> dense -> [n, 1] logit (or [n, outputs]: extra heads)
 *
 * No pooling and no dense hidden layers. For 28x28 MNIST with the defaults (c0 128, c1 64,
 * d0 64, d1 128): 128x7x7 -> 64x14x14 -> 1x28x28. Parameters by name: `${name}.${i}.w` / `.b`
 * (dense, conv), `.gamma` / `.beta` (batch norm); buffers `.running_mean` / `.running_var`.
 */
import { DeepgenError } from "../core/errors.js";
import type { Kernels } from "../kernels/kernels.js";
import type { DcganSpec } from "../kernels/ops/dcgan.js";
import type { PreparedLayer } from "../kernels/ops/prepared-net.js";
import type { Net } from "./conv-nets.js";
import { ConvBlock } from "./conv-block.js";
import { Dense } from "./dense.js";
import { convTLayer, denseLayer, foldBatchNorm } from "./inference-layers.js";
import { MinibatchStddev } from "./minibatch-stddev.js";
import { NormAct } from "./norm-act.js";

// The shape lives with the device trainer (kernels sit below nn), which takes the same spec.
export type { DcganSpec };

export const DCGAN_LEAKY_SLOPE = 0.2;

type Layer = Dense | NormAct | ConvBlock | MinibatchStddev;

export function checkDcganSpec(s: DcganSpec): void {
  if (!(s.height >= 4 && s.width >= 4 && s.height % 4 === 0 && s.width % 4 === 0)) {
    throw new DeepgenError("E_ARG", `DCGAN: image sides must be multiples of 4, got ${s.height}x${s.width}`);
  }
  for (const c of [...s.channels, ...s.discChannels]) {
    if (!Number.isInteger(c) || c < 1 || c > 4096)
      throw new DeepgenError("E_ARG", `DCGAN: channels must be integers in [1, 4096], got ${c}`);
  }
}

/** A chain of dense, batch-norm and conv-block layers run in order. */
class LayerChain implements Net {
  protected layers: Layer[] = [];
  private inputs: Float32Array[] = [];
  private outputs: Float32Array[] = [];

  constructor(
    readonly name: string,
    readonly inDim: number,
    readonly outDim: number,
  ) {}

  setTraining(training: boolean): void {
    for (const l of this.layers) {
      if (l instanceof NormAct) l.training = training;
      else if (l instanceof ConvBlock && l.norm !== null) l.norm.training = training;
    }
  }

  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    if (x.length !== n * this.inDim)
      throw new DeepgenError("E_SHAPE", `${this.name}: input has ${x.length} values, expected ${n} x ${this.inDim}`);
    this.inputs = [];
    this.outputs = [];
    let h = x;
    for (const l of this.layers) {
      this.inputs.push(h);
      h = l instanceof MinibatchStddev ? l.forward(h, n) : l.forward(k, h, n);
      this.outputs.push(h);
    }
    return h;
  }

  backward(k: Kernels, dy: Float32Array, n: number, needDx = false): Float32Array | null {
    if (this.outputs.length !== this.layers.length) throw new DeepgenError("E_ARG", `${this.name}: backward without a forward`);
    let g: Float32Array | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      const x = this.inputs[i]!;
      const y = this.outputs[i]!;
      const wantDx = i > 0 || needDx;
      if (l instanceof MinibatchStddev) g = l.backward(x, g!, n);
      else if (l instanceof NormAct) g = l.backward(k, x, y, g!, n);
      else g = l.backward(k, x, y, g!, n, wantDx);
    }
    return g;
  }

  /** Dense and transposed-conv blocks with the batch norm after each folded in; undefined with a strided conv. */
  inferenceLayers(): PreparedLayer[] | undefined {
    const out: PreparedLayer[] = [];
    for (const l of this.layers) {
      if (l instanceof MinibatchStddev) return undefined;
      if (l instanceof NormAct) {
        const prev = out.pop();
        if (prev === undefined || prev.activation !== "identity") return undefined;
        out.push(foldBatchNorm(prev, l, l.activation, l.slope));
      } else if (l instanceof Dense) {
        out.push(denseLayer(l.w, l.b, l.inDim, l.outDim, l.activation));
      } else {
        const o = l.opts;
        if (!o.transposed) return undefined;
        const conv = convTLayer(l.w, l.b, o.cin, o.cout, o.side, l.norm === null ? o.activation : "identity", o.slope);
        out.push(l.norm === null ? conv : foldBatchNorm(conv, l.norm, o.activation, o.slope));
      }
    }
    return out;
  }

  /** The layers with parameters or buffers, by key (the stddev layer has none). */
  private each(fn: (key: string, l: Dense | NormAct | ConvBlock) => void): void {
    this.layers.forEach((l, i) => {
      if (!(l instanceof MinibatchStddev)) fn(`${this.name}.${i}`, l);
    });
  }

  params(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    this.each((key, l) => {
      const norm = l instanceof NormAct ? l : l instanceof ConvBlock ? l.norm : null;
      if (!(l instanceof NormAct)) out[`${key}.w`] = l.w;
      if (l instanceof Dense) out[`${key}.b`] = l.b;
      else if (l instanceof ConvBlock && l.b !== null) out[`${key}.b`] = l.b;
      if (norm !== null) {
        out[`${key}.gamma`] = norm.gamma;
        out[`${key}.beta`] = norm.beta;
      }
    });
    return out;
  }

  grads(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    this.each((key, l) => {
      const norm = l instanceof NormAct ? l : l instanceof ConvBlock ? l.norm : null;
      if (!(l instanceof NormAct)) out[`${key}.w`] = l.dw;
      if (l instanceof Dense) out[`${key}.b`] = l.db;
      else if (l instanceof ConvBlock && l.db !== null) out[`${key}.b`] = l.db;
      if (norm !== null) {
        out[`${key}.gamma`] = norm.dgamma;
        out[`${key}.beta`] = norm.dbeta;
      }
    });
    return out;
  }

  shapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.each((key, l) => {
      const norm = l instanceof NormAct ? l : l instanceof ConvBlock ? l.norm : null;
      if (l instanceof Dense) {
        out[`${key}.w`] = [l.outDim, l.inDim];
        out[`${key}.b`] = [l.outDim];
      } else if (l instanceof ConvBlock) {
        out[`${key}.w`] = l.weightShape();
        if (l.b !== null) out[`${key}.b`] = [l.b.length];
      }
      if (norm !== null) {
        out[`${key}.gamma`] = [norm.channels];
        out[`${key}.beta`] = [norm.channels];
      }
    });
    return out;
  }

  buffers(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    this.each((key, l) => {
      const norm = l instanceof NormAct ? l : l instanceof ConvBlock ? l.norm : null;
      if (norm === null) return;
      out[`${key}.running_mean`] = { shape: [norm.channels], data: norm.runningMean };
      out[`${key}.running_var`] = { shape: [norm.channels], data: norm.runningVar };
    });
    return out;
  }

  paramCount(): number {
    return Object.values(this.params()).reduce((s, p) => s + p.length, 0);
  }
}

export class DcganGenerator extends LayerChain {
  constructor(
    name: string,
    readonly spec: DcganSpec,
    init: { seed: number; stream: number },
  ) {
    checkDcganSpec(spec);
    super(name, spec.zdim, spec.height * spec.width);
    const [c0, c1] = spec.channels;
    const side: [number, number] = [spec.height / 4, spec.width / 4];
    const s = side[0] * side[1];
    const dense = new Dense(spec.zdim, c0 * s, "identity", { seed: init.seed, stream: init.stream });
    const up0 = new ConvBlock(
      { transposed: true, cin: c0, cout: c1, side, norm: true, activation: "relu" },
      { seed: init.seed, stream: init.stream + 1 },
    );
    const up1 = new ConvBlock(
      { transposed: true, cin: c1, cout: 1, side: up0.outSide, norm: false, activation: "tanh" },
      { seed: init.seed, stream: init.stream + 2 },
    );
    this.layers = [dense, new NormAct(c0, s, "relu"), up0, up1];
  }
}

export class DcganDiscriminator extends LayerChain {
  /** `outputs`: width of the last dense layer (1, the real/fake logit; more for extra heads such as an InfoGAN code). */
  constructor(
    name: string,
    readonly spec: DcganSpec,
    init: { seed: number; stream: number },
    outputs = 1,
  ) {
    checkDcganSpec(spec);
    super(name, spec.height * spec.width, outputs);
    const [d0, d1] = spec.discChannels;
    const slope = DCGAN_LEAKY_SLOPE;
    const down0 = new ConvBlock(
      { transposed: false, cin: 1, cout: d0, side: [spec.height, spec.width], norm: false, activation: "leakyRelu", slope },
      { seed: init.seed, stream: init.stream },
    );
    const down1 = new ConvBlock(
      { transposed: false, cin: d0, cout: d1, side: down0.outSide, norm: spec.discNorm, activation: "leakyRelu", slope },
      { seed: init.seed, stream: init.stream + 1 },
    );
    const stddev = spec.discStddev ? [new MinibatchStddev(down1.outSize)] : [];
    const dense = new Dense(down1.outSize + stddev.length, outputs, "identity", { seed: init.seed, stream: init.stream + 2 });
    this.layers = [down0, down1, ...stddev, dense];
  }
}
