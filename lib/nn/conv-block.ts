/**
 * A GAN conv block: a 4x4, stride-2, pad-1 convolution (halving each side) or transposed
 * convolution (doubling it), then either batch norm + activation (no conv bias: the norm's
 * beta replaces it) or bias + activation:
 *
 *   y = f(BN(conv(x)))        norm
 *   y = f(conv(x) + b)        no norm
 *
 * Weights: conv [cout, cin, 4, 4], transposed [cin, cout, 4, 4] (the conv kernels' layouts),
 * Glorot-uniform counting the kernel taps; gamma 1, beta 0, bias 0.
 * The returned arrays are views into the block's buffers, valid until its next call.
 */
import type { Kernels } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import type { Conv2dShape, ConvTranspose2dShape } from "../kernels/ops/conv.js";
import { uniformInit } from "../models/common.js";
import { NormAct } from "./norm-act.js";

export interface ConvBlockOptions {
  transposed: boolean;
  cin: number;
  cout: number;
  /** Input height and width. */
  side: [number, number];
  norm: boolean;
  activation: ActivationKind;
  slope?: number;
}

export class ConvBlock {
  readonly w: Float32Array;
  readonly dw: Float32Array;
  /** Conv bias (blocks without norm only). */
  readonly b: Float32Array | null;
  readonly db: Float32Array | null;
  readonly norm: NormAct | null;
  private pre = new Float32Array(0);
  private y = new Float32Array(0);
  private dpre = new Float32Array(0);
  private dx = new Float32Array(0);

  constructor(
    readonly opts: ConvBlockOptions,
    init: { seed: number; stream: number },
  ) {
    const { cin, cout } = opts;
    this.w = uniformInit(cin * cout * 16, init.seed, init.stream, Math.sqrt(6 / ((cin + cout) * 16)));
    this.dw = new Float32Array(this.w.length);
    const [oh, ow] = this.outSide;
    this.norm = opts.norm ? new NormAct(cout, oh * ow, opts.activation, opts.slope) : null;
    this.b = opts.norm ? null : new Float32Array(cout);
    this.db = opts.norm ? null : new Float32Array(cout);
  }

  get outSide(): [number, number] {
    const [h, w] = this.opts.side;
    return this.opts.transposed ? [2 * h, 2 * w] : [h / 2, w / 2];
  }

  get inSize(): number {
    return this.opts.cin * this.opts.side[0] * this.opts.side[1];
  }

  get outSize(): number {
    const [h, w] = this.outSide;
    return this.opts.cout * h * w;
  }

  weightShape(): number[] {
    const { cin, cout, transposed } = this.opts;
    return transposed ? [cin, cout, 4, 4] : [cout, cin, 4, 4];
  }

  private shape(n: number): Conv2dShape & ConvTranspose2dShape {
    const { cin, cout, side } = this.opts;
    return { batch: n, inChannels: cin, height: side[0], width: side[1], outChannels: cout, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 };
  }

  private grow(n: number): void {
    const len = n * this.outSize;
    if (this.pre.length < len) {
      this.pre = new Float32Array(len);
      this.y = new Float32Array(len);
      this.dpre = new Float32Array(len);
    }
  }

  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    this.grow(n);
    const len = n * this.outSize;
    const pre = this.pre.subarray(0, len);
    if (n === 0) return this.y.subarray(0, 0);
    if (this.opts.transposed) k.convTranspose2dForward(this.shape(n), x, this.w, null, pre);
    else k.conv2dForward(this.shape(n), x, this.w, null, pre);
    if (this.norm !== null) return this.norm.forward(k, pre, n);
    const y = this.y.subarray(0, len);
    const [oh, ow] = this.outSide;
    k.biasActivationForward(this.opts.activation, pre, this.b!, y, n, this.opts.cout, oh * ow, this.opts.slope);
    return y;
  }

  /** Gradients of the last forward (x its input, y its output); dx [n, in] when needDx. */
  backward(k: Kernels, x: Float32Array, y: Float32Array, dy: Float32Array, n: number, needDx: boolean): Float32Array | null {
    this.grow(n);
    const len = n * this.outSize;
    let dpre: Float32Array;
    if (this.norm !== null) {
      dpre = this.norm.backward(k, this.pre.subarray(0, len), y, dy, n);
    } else {
      dpre = this.dpre.subarray(0, len);
      const [oh, ow] = this.outSide;
      k.biasActivationBackward(this.opts.activation, y, dy, dpre, this.db!, n, this.opts.cout, oh * ow, this.opts.slope);
    }
    if (n === 0) {
      this.dw.fill(0);
      return needDx ? new Float32Array(0) : null;
    }
    if (this.opts.transposed) k.convTranspose2dBackwardWeight(this.shape(n), x, dpre, this.dw, null);
    else k.conv2dBackwardWeight(this.shape(n), x, dpre, this.dw, null);
    if (!needDx) return null;
    if (this.dx.length < n * this.inSize) this.dx = new Float32Array(n * this.inSize);
    const dx = this.dx.subarray(0, n * this.inSize);
    if (this.opts.transposed) k.convTranspose2dBackwardData(this.shape(n), dpre, this.w, dx);
    else k.conv2dBackwardData(this.shape(n), dpre, this.w, dx);
    return dx;
  }
}
