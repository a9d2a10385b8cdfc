/**
 * JS twin of native/kernels/cpu/rnade.{h,cc}: RNADE log-density, gradients and sampling with
 * the same step order, mixture formulas and Philox counters. Generic over FloatArray so the
 * gradient check runs in float64.
 */
import { philox4x32, uniformF64 } from "../../core/philox.js";
import { rowDraw, type StreamSpec } from "./row-streams.js";
import type { FloatArray } from "./types.js";

export interface RnadeArrays<T extends FloatArray = FloatArray> {
  d: number;
  h: number;
  k: number;
  wt: T; // [D, H]
  c: T; // [H]
  va: T; // [D, K, H]
  vm: T;
  vs: T;
  ba: T; // [D, K]
  bm: T;
  bs: T;
}

export type RnadeGradArrays<T extends FloatArray = FloatArray> = Omit<RnadeArrays<T>, "d" | "h" | "k">;

const HALF_LOG_2PI = 0.9189385332046727;

function like(t: FloatArray, n: number): FloatArray {
  return t instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

class Step {
  readonly a: FloatArray;
  readonly hs: FloatArray;
  readonly z: FloatArray;
  readonly mu: FloatArray;
  readonly s: FloatArray;
  readonly pi: FloatArray;
  readonly r: FloatArray;
  constructor(readonly p: RnadeArrays) {
    this.a = like(p.c, p.h);
    this.a.set(p.c);
    this.hs = like(p.c, p.h);
    this.z = like(p.c, p.k);
    this.mu = like(p.c, p.k);
    this.s = like(p.c, p.k);
    this.pi = like(p.c, p.k);
    this.r = like(p.c, p.k);
  }
  refresh(): void {
    for (let j = 0; j < this.p.h; j++) this.hs[j] = 1 / (1 + Math.exp(-this.a[j]!));
  }
  heads(d: number): void {
    const { p } = this;
    for (let j = 0; j < p.k; j++) {
      const row = (d * p.k + j) * p.h;
      let z = 0;
      let mu = 0;
      let s = 0;
      for (let i = 0; i < p.h; i++) {
        const hv = this.hs[i]!;
        z += p.va[row + i]! * hv;
        mu += p.vm[row + i]! * hv;
        s += p.vs[row + i]! * hv;
      }
      this.z[j] = p.ba[d * p.k + j]! + z;
      this.mu[j] = p.bm[d * p.k + j]! + mu;
      this.s[j] = p.bs[d * p.k + j]! + s;
    }
  }
  /** log p(x_d | .); fills pi = softmax(z) and r = softmax(z + log N). */
  logProb(x: number): number {
    const { k } = this.p;
    const joint = new Float64Array(k);
    let zmax = -Infinity;
    let jmax = -Infinity;
    for (let j = 0; j < k; j++) {
      const t = (x - this.mu[j]!) * Math.exp(-this.s[j]!);
      joint[j] = this.z[j]! - 0.5 * t * t - this.s[j]! - HALF_LOG_2PI;
      zmax = Math.max(zmax, this.z[j]!);
      jmax = Math.max(jmax, joint[j]!);
    }
    let zs = 0;
    let js = 0;
    for (let j = 0; j < k; j++) {
      zs += Math.exp(this.z[j]! - zmax);
      js += Math.exp(joint[j]! - jmax);
    }
    const lz = zmax + Math.log(zs);
    const lj = jmax + Math.log(js);
    for (let j = 0; j < k; j++) {
      this.pi[j] = Math.exp(this.z[j]! - lz);
      this.r[j] = Math.exp(joint[j]! - lj);
    }
    return lj - lz;
  }
  addRow(d: number, alpha: number): void {
    for (let j = 0; j < this.p.h; j++) this.a[j] = this.a[j]! + alpha * this.p.wt[d * this.p.h + j]!;
  }
}

export function rnadeLogProb(p: RnadeArrays, x: FloatArray, n: number, logp: FloatArray): void {
  for (let i = 0; i < n; i++) {
    const st = new Step(p);
    let total = 0;
    for (let d = 0; d < p.d; d++) {
      st.refresh();
      st.heads(d);
      total += st.logProb(x[i * p.d + d]!);
      st.addRow(d, x[i * p.d + d]!);
    }
    logp[i] = total;
  }
}

/** Gradients of scale * sum_i -log p(x_i) written into g (added when `accumulate`). */
export function rnadeBackward(
  p: RnadeArrays,
  x: FloatArray,
  n: number,
  scale: number,
  logp: FloatArray | null,
  g: RnadeGradArrays,
  accumulate = false,
): void {
  if (!accumulate) for (const arr of Object.values(g)) arr.fill(0);
  const { h, k } = p;
  for (let i = 0; i < n; i++) {
    const xi = (d: number): number => x[i * p.d + d]!;
    const st = new Step(p);
    let total = 0;
    for (let d = 0; d < p.d; d++) {
      st.refresh();
      st.heads(d);
      total += st.logProb(xi(d));
      st.addRow(d, xi(d));
    }
    if (logp) logp[i] = total;
    const acc = like(p.c, h);
    const dh = like(p.c, h);
    for (let d = p.d - 1; d >= 0; d--) {
      for (let j = 0; j < h; j++) g.wt[d * h + j] = g.wt[d * h + j]! + xi(d) * acc[j]!;
      st.addRow(d, -xi(d));
      st.refresh();
      st.heads(d);
      st.logProb(xi(d));
      dh.fill(0);
      for (let j = 0; j < k; j++) {
        const invVar = Math.exp(-2 * st.s[j]!);
        const diff = xi(d) - st.mu[j]!;
        const dz = (st.pi[j]! - st.r[j]!) * scale;
        const dmu = -st.r[j]! * diff * invVar * scale;
        const ds = -st.r[j]! * (diff * diff * invVar - 1) * scale;
        const b = d * k + j;
        const row = b * h;
        g.ba[b] = g.ba[b]! + dz;
        g.bm[b] = g.bm[b]! + dmu;
        g.bs[b] = g.bs[b]! + ds;
        for (let q = 0; q < h; q++) {
          const hv = st.hs[q]!;
          g.va[row + q] = g.va[row + q]! + dz * hv;
          g.vm[row + q] = g.vm[row + q]! + dmu * hv;
          g.vs[row + q] = g.vs[row + q]! + ds * hv;
          dh[q] = dh[q]! + dz * p.va[row + q]! + dmu * p.vm[row + q]! + ds * p.vs[row + q]!;
        }
      }
      for (let q = 0; q < h; q++) acc[q] = acc[q]! + dh[q]! * st.hs[q]! * (1 - st.hs[q]!);
    }
    for (let q = 0; q < h; q++) g.c[q] = g.c[q]! + acc[q]!;
  }
}

/** Row i draws on rowDraw(spec, i) (row-streams.ts). */
export interface RnadeSampleSpec extends StreamSpec {
  n: number;
  stream: number;
}

export function rnadeSample(p: RnadeArrays, spec: RnadeSampleSpec, x: FloatArray): void {
  const words = new Uint32Array(4);
  for (let i = 0; i < spec.n; i++) {
    const { lo, hi, key0, key1 } = rowDraw(spec, i);
    const st = new Step(p);
    for (let d = 0; d < p.d; d++) {
      st.refresh();
      st.heads(d);
      st.logProb(0);
      philox4x32(d, lo, spec.stream, hi, key0, key1, words);
      const u = uniformF64(words[0]!);
      let comp = p.k - 1;
      let cum = 0;
      for (let j = 0; j < p.k; j++) {
        cum += st.pi[j]!;
        if (u < cum) {
          comp = j;
          break;
        }
      }
      const normal = Math.sqrt(-2 * Math.log(uniformF64(words[1]!))) * Math.cos(2 * Math.PI * uniformF64(words[2]!));
      const value = Math.fround(st.mu[comp]! + Math.exp(st.s[comp]!) * normal);
      x[i * p.d + d] = value;
      st.addRow(d, value);
    }
  }
}
