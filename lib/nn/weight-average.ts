/**
 * An exponential moving average of a network's parameters, avg = d avg + (1 - d) p after each
 * update (Polyak averaging as used for GAN generators, e.g. Yazici et al. 2019): the averaged
 * generator draws smoother, better samples than the last iterate. `swap()` exchanges the
 * averages with the live parameters in place, so the same network evaluates either.
 *
 * With `warmup`, update t (counting from 0) uses the decay min(d, (1 + t) / (10 + t)), as
 * TensorFlow's ExponentialMovingAverage with num_updates: the average forgets its starting
 * point (often the random initialization) within tens of updates instead of the ~1 / (1 - d)
 * a plain average needs, and reaches the full decay d after 9 d / (1 - d) updates.
 */
import { DeepgenError } from "../core/errors.js";

export class WeightAverage {
  readonly averages: Record<string, Float32Array> = {};
  /** Updates so far (saved in checkpoints: the warm-up depends on it). */
  updates = 0;

  constructor(
    readonly params: Record<string, Float32Array>,
    readonly decay: number,
    readonly opts: { warmup?: boolean } = {},
  ) {
    if (!(decay >= 0 && decay < 1)) throw new DeepgenError("E_ARG", `the averaging decay must be in [0, 1), got ${decay}`);
    for (const [name, p] of Object.entries(params)) this.averages[name] = p.slice();
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    return this.opts.warmup ? Math.min(this.decay, (1 + this.updates) / (10 + this.updates)) : this.decay;
  }

  update(): void {
    const d = this.currentDecay();
    this.updates++;
    for (const [name, p] of Object.entries(this.params)) {
      const a = this.averages[name]!;
      for (let i = 0; i < p.length; i++) a[i] = d * a[i]! + (1 - d) * p[i]!;
    }
  }

  /** Exchanges the averages and the live parameters (calling it twice restores both). */
  swap(): void {
    for (const [name, p] of Object.entries(this.params)) {
      const a = this.averages[name]!;
      for (let i = 0; i < p.length; i++) {
        const t = p[i]!;
        p[i] = a[i]!;
        a[i] = t;
      }
    }
  }
}
