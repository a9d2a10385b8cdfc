/**
 * Adam over a set of named parameter arrays, with its state (moments, step count) saved in
 * checkpoints so a resumed run continues exactly. The update itself is the fused adamStep
 * kernel of the chosen backend.
 */
import { DeepgenError } from "../core/errors.js";
import type { Kernels } from "../kernels/kernels.js";
import type { SafeTensor } from "../io/safetensors.js";

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this before each step (Infinity: no clipping). */
  clipNorm?: number;
}

export class Adam {
  readonly m: Record<string, Float32Array> = {};
  readonly v: Record<string, Float32Array> = {};
  step = 0;
  readonly opts: Required<AdamOptions>;

  constructor(
    readonly params: Record<string, Float32Array>,
    opts: AdamOptions,
  ) {
    if (!(opts.lr > 0)) throw new DeepgenError("E_ARG", `learning rate must be > 0, got ${opts.lr}`);
    this.opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: Infinity, ...opts };
    for (const [name, p] of Object.entries(params)) {
      this.m[name] = new Float32Array(p.length);
      this.v[name] = new Float32Array(p.length);
    }
  }

  /** One update from `grads` (same names and sizes as the parameters). Returns the gradient norm. */
  update(kernels: Kernels, grads: Record<string, Float32Array>): number {
    const names = Object.keys(this.params);
    const norm = kernels.clipGradNorm(
      names.map((n) => grads[n]!),
      this.opts.clipNorm,
    );
    if (!Number.isFinite(norm)) return norm; // skip a step poisoned by Inf/NaN gradients
    this.step++;
    for (const name of names) {
      kernels.adamStep(this.params[name]!, grads[name]!, this.m[name]!, this.v[name]!, {
        lr: this.opts.lr,
        beta1: this.opts.beta1,
        beta2: this.opts.beta2,
        eps: this.opts.eps,
        step: this.step,
        weightDecay: this.opts.weightDecay,
      });
    }
    return norm;
  }

  /** Tensors of the optimizer state, for a checkpoint file. */
  stateTensors(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const name of Object.keys(this.params)) {
      out[`adam.m.${name}`] = { shape: [this.m[name]!.length], data: this.m[name]! };
      out[`adam.v.${name}`] = { shape: [this.v[name]!.length], data: this.v[name]! };
    }
    return out;
  }

  loadState(tensors: Map<string, SafeTensor>, step: number): void {
    for (const name of Object.keys(this.params)) {
      for (const [kind, target] of [
        ["m", this.m[name]!],
        ["v", this.v[name]!],
      ] as const) {
        const t = tensors.get(`adam.${kind}.${name}`);
        if (t === undefined || t.dtype !== "F32" || t.data.length !== target.length) {
          throw new DeepgenError("E_FORMAT", `checkpoint lacks a valid adam.${kind}.${name}`);
        }
        target.set(t.data as Float32Array);
      }
    }
    this.step = step;
  }
}
