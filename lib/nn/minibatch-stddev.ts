/**
 * Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", sec. 3): the
 * discriminator's features x [n, F] get one more column, the same for every row,
 *
 *   s = (1 / F) sum_f sqrt(var_f + eps),   var_f = (1 / n) sum_b (x_bf - mean_f)^2,
 *
 * so that the discriminator sees how varied the batch is and can penalize a generator whose
 * batch is too alike (partial mode collapse), which a per-example discriminator cannot see.
 * The output depends on the whole batch: real and generated batches must go through it
 * separately (Gan.fit does when the discriminator has this layer).
 *
 * Backward: dL/dx_bf = dy_bf + (sum_b' dy_b'F) (x_bf - mean_f) / (n F sqrt(var_f + eps)).
 * A few F-length loops, cheap beside the convs, so it is plain TypeScript used by every backend.
 */
import { DeepgenError } from "../core/errors.js";

const EPS = 1e-8;

export class MinibatchStddev {
  readonly outDim: number;
  private mean: Float64Array;
  private std: Float64Array;

  constructor(readonly inDim: number) {
    this.outDim = inDim + 1;
    this.mean = new Float64Array(inDim);
    this.std = new Float64Array(inDim);
  }

  forward(x: Float32Array, n: number): Float32Array {
    const F = this.inDim;
    if (x.length !== n * F || n < 1)
      throw new DeepgenError("E_SHAPE", `minibatch stddev: input has ${x.length} values, expected ${n} x ${F}`);
    const mean = this.mean.fill(0);
    const std = this.std.fill(0);
    for (let b = 0; b < n; b++) for (let f = 0; f < F; f++) mean[f]! += x[b * F + f]!;
    for (let f = 0; f < F; f++) mean[f]! /= n;
    for (let b = 0; b < n; b++) {
      for (let f = 0; f < F; f++) {
        const d = x[b * F + f]! - mean[f]!;
        std[f]! += d * d;
      }
    }
    let s = 0;
    for (let f = 0; f < F; f++) {
      std[f] = Math.sqrt(std[f]! / n + EPS);
      s += std[f]!;
    }
    s /= F;
    const y = new Float32Array(n * (F + 1));
    for (let b = 0; b < n; b++) {
      y.set(x.subarray(b * F, (b + 1) * F), b * (F + 1));
      y[b * (F + 1) + F] = s;
    }
    return y;
  }

  /** dx from dy [n, F + 1], using the statistics of the last forward (of the same x). */
  backward(x: Float32Array, dy: Float32Array, n: number): Float32Array {
    const F = this.inDim;
    if (dy.length !== n * (F + 1))
      throw new DeepgenError("E_SHAPE", `minibatch stddev: gradient has ${dy.length} values, expected ${n} x ${F + 1}`);
    let ds = 0;
    for (let b = 0; b < n; b++) ds += dy[b * (F + 1) + F]!;
    const dx = new Float32Array(n * F);
    for (let b = 0; b < n; b++) {
      for (let f = 0; f < F; f++) {
        dx[b * F + f] = dy[b * (F + 1) + f]! + (ds * (x[b * F + f]! - this.mean[f]!)) / (n * F * this.std[f]!);
      }
    }
    return dx;
  }
}
