/**
 * JS twin of native/kernels/cpu/nade.{h,cc}: NADE log-likelihood, sampling and gradients,
 * with the same step order, the same lazy recomputation of h (only after a step with
 * x = 1), the same Philox counters, and the same double-precision per-step scalars. Generic
 * over FloatArray so gradient checks run in float64.
 */
import { philox4x32, uniformF64 } from "../../core/philox.js";
import { rowDraw, type StreamSpec } from "./row-streams.js";
import type { FloatArray } from "./types.js";

export interface NadeArrays<T extends FloatArray = FloatArray> {
  d: number;
  h: number;
  wt: T; // [D, H]
  c: T; // [H]
  v: T; // [D, H]
  b: T; // [D]
  order: Int32Array; // [D]
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** x l - softplus(l): log p of a binary value given its logit, stable for any |l|. */
function logBernoulli(l: number, one: boolean): number {
  const z = one ? -l : l;
  return -(Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))));
}

function dotRow(v: FloatArray, off: number, hs: FloatArray, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += v[off + j]! * hs[j]!;
  return s;
}

/** State of one sample: a, h and whether h must be recomputed. */
class SampleState {
  readonly a: FloatArray;
  readonly hs: FloatArray;
  stale = true;
  constructor(readonly p: NadeArrays) {
    this.a = p.c instanceof Float64Array ? new Float64Array(p.c) : new Float32Array(p.c);
    this.hs = p.c instanceof Float64Array ? new Float64Array(p.h) : new Float32Array(p.h);
  }
  hidden(): FloatArray {
    if (this.stale) {
      for (let j = 0; j < this.p.h; j++) this.hs[j] = sigmoid(this.a[j]!);
      this.stale = false;
    }
    return this.hs;
  }
  addRow(row: number, sign: number): void {
    const { wt, h } = this.p;
    for (let j = 0; j < h; j++) this.a[j] = this.a[j]! + sign * wt[row * h + j]!;
    this.stale = true;
  }
}

export function nadeLogProb(p: NadeArrays, x: FloatArray, n: number, logp: FloatArray): void {
  for (let s = 0; s < n; s++) {
    const st = new SampleState(p);
    let total = 0;
    for (let d = 0; d < p.d; d++) {
      const o = p.order[d]!;
      const l = p.b[o]! + dotRow(p.v, o * p.h, st.hidden(), p.h);
      const one = x[s * p.d + o]! > 0.5;
      total += logBernoulli(l, one);
      if (one) st.addRow(o, 1);
    }
    logp[s] = total;
  }
}

/** Row i draws on rowDraw(spec, i) (row-streams.ts). */
export interface NadeSampleSpec extends StreamSpec {
  n: number;
  stream: number;
  /** Steps of the ordering taken from x instead of drawn. */
  known: number;
}

export function nadeSample(p: NadeArrays, spec: NadeSampleSpec, x: FloatArray, probs: FloatArray | null): void {
  const words = new Uint32Array(4);
  for (let s = 0; s < spec.n; s++) {
    const st = new SampleState(p);
    const { lo, hi, key0, key1 } = rowDraw(spec, s);
    for (let d = 0; d < p.d; d++) {
      const o = p.order[d]!;
      const l = p.b[o]! + dotRow(p.v, o * p.h, st.hidden(), p.h);
      const prob = sigmoid(l);
      if (probs) probs[s * p.d + o] = prob;
      let one: boolean;
      if (d < spec.known) {
        one = x[s * p.d + o]! > 0.5;
      } else {
        if (d === spec.known || (d & 3) === 0) philox4x32(d >>> 2, lo, spec.stream, hi, key0, key1, words);
        one = uniformF64(words[d & 3]!) < prob;
        x[s * p.d + o] = one ? 1 : 0;
      }
      if (one) st.addRow(o, 1);
    }
  }
}

/**
 * Gradients of scale * sum_i -log p(x_i), written into dwt, dc, dv, db (added to them when
 * `accumulate`, for slices of one batch); logp (optional) receives log p(x_i).
 */
export function nadeBackward(
  p: NadeArrays,
  x: FloatArray,
  n: number,
  scale: number,
  logp: FloatArray | null,
  g: { dwt: FloatArray; dc: FloatArray; dv: FloatArray; db: FloatArray },
  accumulate = false,
): void {
  if (!accumulate) {
    g.dwt.fill(0);
    g.dc.fill(0);
    g.dv.fill(0);
    g.db.fill(0);
  }
  const { h } = p;
  const acc = p.c instanceof Float64Array ? new Float64Array(h) : new Float32Array(h);
  for (let s = 0; s < n; s++) {
    const st = new SampleState(p);
    let total = 0;
    for (let d = 0; d < p.d; d++) {
      const o = p.order[d]!;
      const one = x[s * p.d + o]! > 0.5;
      if (logp) total += logBernoulli(p.b[o]! + dotRow(p.v, o * h, st.hidden(), h), one);
      if (one) st.addRow(o, 1);
    }
    if (logp) logp[s] = total;
    acc.fill(0);
    for (let d = p.d - 1; d >= 0; d--) {
      const o = p.order[d]!;
      const one = x[s * p.d + o]! > 0.5;
      if (one) {
        for (let j = 0; j < h; j++) g.dwt[o * h + j] = g.dwt[o * h + j]! + acc[j]!;
        st.addRow(o, -1);
      }
      const hs = st.hidden();
      const l = p.b[o]! + dotRow(p.v, o * h, hs, h);
      const dl = (sigmoid(l) - (one ? 1 : 0)) * scale;
      g.db[o] = g.db[o]! + dl;
      for (let j = 0; j < h; j++) {
        g.dv[o * h + j] = g.dv[o * h + j]! + dl * hs[j]!;
        acc[j] = acc[j]! + dl * p.v[o * h + j]! * hs[j]! * (1 - hs[j]!);
      }
    }
    for (let j = 0; j < h; j++) g.dc[j] = g.dc[j]! + acc[j]!;
  }
}
