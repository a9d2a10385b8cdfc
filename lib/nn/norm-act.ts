/**
 * Batch normalization followed by an activation, over [n, c, s] per channel (s = spatial
 * size): the "BN + ReLU" after the DCGAN generator's dense layer. In training mode it uses
 * the batch statistics and updates the running ones (PyTorch semantics, lib/kernels/ops/norm.ts);
 * in evaluation mode it uses the running statistics, so a sample does not depend on the
 * other samples of its batch.
 *
 *   forward:  z = gamma (x - mean) rstd + beta,  y = f(z)
 *   backward: dz = dy f'(.) (from y), then the batch-norm backward gives dx, dgamma, dbeta
 *
 * The returned arrays are views into the layer's buffers, valid until its next call.
 */
import { DeepgenError } from "../core/errors.js";
import type { Kernels } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";

/** Batch-norm parameters, gradients and running statistics of one layer, by channel. */
export interface BatchNormState {
  readonly channels: number;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly dgamma: Float32Array;
  readonly dbeta: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  /** Batch statistics (and running-statistics updates) when true, running statistics when false. */
  training: boolean;
}

/** A fresh state: gamma 1, beta 0, running mean 0, running variance 1 (as PyTorch). */
export function batchNormState(channels: number): BatchNormState {
  return {
    channels,
    gamma: new Float32Array(channels).fill(1),
    beta: new Float32Array(channels),
    dgamma: new Float32Array(channels),
    dbeta: new Float32Array(channels),
    runningMean: new Float32Array(channels),
    runningVar: new Float32Array(channels).fill(1),
    training: true,
  };
}

export class NormAct implements BatchNormState {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly dgamma: Float32Array;
  readonly dbeta: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;
  training = true;
  private y = new Float32Array(0);
  private dz = new Float32Array(0);
  private dx = new Float32Array(0);

  constructor(
    readonly channels: number,
    readonly spatial: number,
    readonly activation: ActivationKind,
    readonly slope?: number,
  ) {
    this.gamma = new Float32Array(channels).fill(1);
    this.beta = new Float32Array(channels);
    this.dgamma = new Float32Array(channels);
    this.dbeta = new Float32Array(channels);
    this.runningMean = new Float32Array(channels);
    this.runningVar = new Float32Array(channels).fill(1);
    this.mean = new Float32Array(channels);
    this.rstd = new Float32Array(channels);
  }

  get size(): number {
    return this.channels * this.spatial;
  }

  forward(k: Kernels, x: Float32Array, n: number): Float32Array {
    const len = n * this.size;
    if (x.length !== len) throw new DeepgenError("E_SHAPE", `NormAct: input has ${x.length} values, expected ${n} x ${this.size}`);
    if (this.y.length < len) {
      this.y = new Float32Array(len);
      this.dz = new Float32Array(len);
    }
    const y = this.y.subarray(0, len);
    if (n === 0) return y;
    if (this.training) {
      k.batchNormForwardTrain(
        x,
        this.gamma,
        this.beta,
        y,
        this.mean,
        this.rstd,
        this.runningMean,
        this.runningVar,
        n,
        this.channels,
        this.spatial,
      );
    } else {
      k.batchNormForwardEval(x, this.gamma, this.beta, this.runningMean, this.runningVar, y, n, this.channels, this.spatial);
    }
    k.activationForward(this.activation, y, y, this.slope);
    return y;
  }

  /** Backward of the last training-mode forward (x its input, y its output). */
  backward(k: Kernels, x: Float32Array, y: Float32Array, dy: Float32Array, n: number): Float32Array {
    if (!this.training) throw new DeepgenError("E_ARG", "NormAct: backward needs a training-mode forward");
    const len = n * this.size;
    if (this.dx.length < len) this.dx = new Float32Array(len);
    const dz = this.dz.subarray(0, len);
    const dx = this.dx.subarray(0, len);
    if (n === 0) {
      this.dgamma.fill(0);
      this.dbeta.fill(0);
      return dx;
    }
    k.activationBackward(this.activation, y, dy, dz, this.slope);
    k.batchNormBackward(x, dz, this.gamma, this.mean, this.rstd, dx, this.dgamma, this.dbeta, n, this.channels, this.spatial);
    return dx;
  }
}
