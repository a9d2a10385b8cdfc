/**
 * A GAN conv block: a 4x4, stride-2, pad-1 convolution (halving each side) or transposed
 * convolution (doubling it), then either batch norm + activation (no conv bias: the norm's
 * beta replaces it) or bias + activation:
 *
 *   y = f(BN(conv(x)))        norm
 *   y = f(conv(x) + b)        no norm
 *
 * Each direction is one fused kernel call (lib/kernels/ops/convblock.ts). Batch norm uses the
 * batch statistics while `norm.training`, else the running statistics.
 * Weights: conv [cout, cin, 4, 4], transposed [cin, cout, 4, 4] (the conv kernels' layouts),
 * Glorot-uniform counting the kernel taps; gamma 1, beta 0, bias 0.
 * The returned arrays are views into the block's buffers, valid until its next call.
 */
import type { Kernels } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import type { ConvBlockSpec } from "../kernels/ops/convblock.js";
import { uniformInit } from "./init.js";
import { batchNormState, type BatchNormState } from "./norm-act.js";

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
  readonly norm: BatchNormState | null;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;
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
    this.norm = opts.norm ? batchNormState(cout) : null;
    this.b = opts.norm ? null : new Float32Array(cout);
    this.db = opts.norm ? null : new Float32Array(cout);
    this.mean = new Float32Array(cout);
    this.rstd = new Float32Array(cout);
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

  private spec(n: number): ConvBlockSpec {
    const { cin, cout, side, transposed, activation, slope } = this.opts;
    return {
      transposed,
      shape: {
        batch: n,
        inChannels: cin,
        height: side[0],
        width: side[1],
        outChannels: cout,
        kernelH: 4,
        kernelW: 4,
        strideH: 2,
        strideW: 2,
        padH: 1,
        padW: 1,
      },
      norm: this.norm === null ? "none" : this.norm.training ? "train" : "eval",
      activation,
      slope,
    };
  }

  private params() {
    const nb = this.norm;
    return {
      weight: this.w,
      bias: this.b,
      gamma: nb?.gamma ?? null,
      beta: nb?.beta ?? null,
      runningMean: nb?.runningMean ?? null,
      runningVar: nb?.runningVar ?? null,
    };
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
    const y = this.y.subarray(0, len);
    if (n === 0) return y;
    k.convBlockForward(this.spec(n), x, this.params(), { pre: this.pre.subarray(0, len), mean: this.mean, rstd: this.rstd }, y);
    return y;
  }

  /** Gradients of the last forward (x its input, y its output); dx [n, in] when needDx. dy is left as it is. */
  backward(k: Kernels, x: Float32Array, y: Float32Array, dy: Float32Array, n: number, needDx: boolean): Float32Array | null {
    this.grow(n);
    const len = n * this.outSize;
    const nb = this.norm;
    if (n === 0) {
      this.dw.fill(0);
      this.db?.fill(0);
      nb?.dgamma.fill(0);
      nb?.dbeta.fill(0);
      return needDx ? new Float32Array(0) : null;
    }
    if (needDx && this.dx.length < n * this.inSize) this.dx = new Float32Array(n * this.inSize);
    const dx = needDx ? this.dx.subarray(0, n * this.inSize) : null;
    const scratch = this.dpre.subarray(0, len);
    scratch.set(dy.subarray(0, len)); // the kernel overwrites its dy
    k.convBlockBackward(
      this.spec(n),
      x,
      this.params(),
      { pre: this.pre.subarray(0, len), mean: this.mean, rstd: this.rstd },
      y,
      scratch,
      dx,
      {
        dweight: this.dw,
        dbias: this.db,
        dgamma: nb?.dgamma ?? null,
        dbeta: nb?.dbeta ?? null,
      },
    );
    return dx;
  }
}
