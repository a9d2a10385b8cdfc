/**
 * The parameter-count baselines: fully independent Bernoulli pixels (D parameters) and a
 * first-order Markov chain over the pixel order (2D - 1), both fitted in closed form with
 * Laplace smoothing; the fully dependent joint has 2^D - 1 parameters and is only counted.
 * Their work is O(D) per image, so they run in TS on every backend (no native kernel); the
 * async calls run it in slices of rows on the event loop (runChunkedJs), yielding between
 * slices so that timers and I/O keep running.
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { seedToKey } from "../core/philox.js";
import { runChunkedJs } from "../kernels/job.js";
import { fileConfig, loadModelFile, requireF32, saveModelFile } from "../io/model-file.js";
import { type BatchSampleOptions, type SampleRequest, sampleEachInTurn } from "./batch.js";
import { checkInputValues, type InputCheckOptions, inputRows, sizedRequest } from "./common.js";
import {
  type DensityModel,
  INPUT_CALL_KEYS,
  type InputCallOptions,
  SAMPLE_KEYS,
  type SampleOptions,
  type Samples,
  SYNC_INPUT_KEYS,
  SYNC_SAMPLE_KEYS,
  type SyncInputOptions,
  type SyncSampleOptions,
} from "./density.js";
import { PixelUniforms } from "../core/pixel-uniforms.js";
import type { ModelCard } from "./card.js";

/** A baseline's config is its dimension: create()'s rule, and E_FORMAT from a file (fileConfig). */
function baselineConfig(config: Partial<{ dim: number }>): { dim: number } {
  return { dim: checkInteger("dim", config.dim, 1) };
}

/** Parameters of the fully dependent joint over D binary variables: 2^D - 1. */
export function fullJointParamCount(d: number): bigint {
  checkInteger("D", d, 1);
  return (1n << BigInt(d)) - 1n;
}

/** Rows of binary images x, options and values checked. */
function binaryRows(what: string, x: Float32Array, d: number, opts: InputCheckOptions): number {
  return inputRows(what, x, d, "binary", opts);
}

function logBern(p: number, one: boolean): number {
  return Math.log(one ? p : 1 - p);
}

const SAMPLE_STREAM = 0;

// Pixels per slice of an async call: a quarter of a millisecond of work or less, so that even
// several concurrent calls (each yielding once per slice) keep the event loop responsive.
const SLICE_PIXELS = 1 << 13;

function sliceRows(dim: number): number {
  return Math.max(1, Math.floor(SLICE_PIXELS / dim));
}

export interface BaselineFitOptions extends InputCheckOptions {
  /** Laplace smoothing pseudo-count added to each outcome (default 1). */
  alpha?: number;
}

const FIT_KEYS = optionKeys<BaselineFitOptions>({ alpha: true, checkInput: true });

export class IndependentBernoulli implements DensityModel {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "bernoulli";
  /** The configuration its file records. */
  get config(): { dim: number; height?: number; width?: number } {
    return { dim: this.dim };
  }
  constructor(
    readonly dim: number,
    /** p[d] = P(x_d = 1). */
    readonly p: Float32Array,
  ) {}

  static fit(x: Float32Array, d: number, options?: BaselineFitOptions): IndependentBernoulli {
    const opts = checkOptions("IndependentBernoulli.fit", options, FIT_KEYS);
    checkInteger("d", d, 1);
    const n = binaryRows("IndependentBernoulli.fit", x, d, opts);
    const alpha = opts.alpha ?? 1;
    const counts = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) if (x[i * d + j]! > 0.5) counts[j]!++;
    const p = new Float32Array(d);
    for (let j = 0; j < d; j++) p[j] = (counts[j]! + alpha) / (n + 2 * alpha);
    return new IndependentBernoulli(d, p);
  }

  paramCount(): number {
    return this.dim;
  }

  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const n = binaryRows(
      "IndependentBernoulli.logProbSync",
      x,
      this.dim,
      checkOptions("IndependentBernoulli.logProbSync", opts, SYNC_INPUT_KEYS),
    );
    const out = new Float32Array(n);
    this.logProbRows(x, 0, n, out);
    return out;
  }

  async logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array> {
    const o = checkOptions("IndependentBernoulli.logProb", opts, INPUT_CALL_KEYS);
    const n = binaryRows("IndependentBernoulli.logProb", x, this.dim, { checkInput: false });
    const out = new Float32Array(n);
    // the values are checked slice by slice too: that pass is as long as the work itself
    await runChunkedJs(n, sliceRows(this.dim), o, (b, e) => {
      if (o.checkInput !== false) checkInputValues("IndependentBernoulli.logProb", x, this.dim, "binary", b, e);
      this.logProbRows(x, b, e, out);
    });
    return out;
  }

  private logProbRows(x: Float32Array, begin: number, end: number, out: Float32Array): void {
    for (let i = begin; i < end; i++) {
      let s = 0;
      for (let j = 0; j < this.dim; j++) s += logBern(this.p[j]!, x[i * this.dim + j]! > 0.5);
      out[i] = s;
    }
  }

  sampleSync(n: number, options: SyncSampleOptions): Samples {
    const opts = checkOptions("IndependentBernoulli.sampleSync", options, SYNC_SAMPLE_KEYS, ["seed"]);
    return sizedRequest("IndependentBernoulli.sample", n, 4 * this.dim * (opts.returnProbs ? 2 : 1), () => {
      const s = this.allocSamples(n, opts);
      this.drawRows(s, new PixelUniforms(seedToKey(opts.seed), SAMPLE_STREAM), 0, n);
      return s;
    });
  }

  private allocSamples(n: number, opts: { returnProbs?: boolean }): Samples {
    const x = new Float32Array(n * this.dim);
    return opts.returnProbs ? { x, probs: tile(this.p, n), n } : { x, n };
  }

  private drawRows(s: Samples, u: PixelUniforms, begin: number, end: number): void {
    for (let i = begin; i < end; i++) for (let j = 0; j < this.dim; j++) s.x[i * this.dim + j] = u.at(i, j) < this.p[j]! ? 1 : 0;
  }

  /** The samples of many requests in one call, each exactly its lone sample (lib/models/batch.ts). */
  sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    return sampleEachInTurn(requests, opts, false, (r, o) => this.sample(r.n, { ...o, seed: r.seed }));
  }

  async sample(n: number, opts: SampleOptions): Promise<Samples> {
    const o = checkOptions("IndependentBernoulli.sample", opts, SAMPLE_KEYS, ["seed"]);
    return sizedRequest("IndependentBernoulli.sample", n, 4 * this.dim * (o.returnProbs ? 2 : 1), async () => {
      const u = new PixelUniforms(seedToKey(o.seed), SAMPLE_STREAM);
      const s = this.allocSamples(n, o);
      await runChunkedJs(n, sliceRows(this.dim), o, (b, e) => this.drawRows(s, u, b, e));
      return s;
    });
  }

  async save(path: string): Promise<void> {
    await saveModelFile(path, this.kind, { dim: this.dim }, { p: { shape: [this.dim], data: this.p } });
  }

  static async load(path: string): Promise<IndependentBernoulli> {
    const f = await loadModelFile<{ dim: number }>(path, "bernoulli");
    const { dim } = fileConfig(f, path, baselineConfig);
    return new IndependentBernoulli(dim, requireF32(f, "p", [dim]));
  }
}

function tile(row: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

/** First-order Markov chain over the pixel order: p(x_0) and p(x_d = 1 | x_{d-1}). */
export class MarkovChain implements DensityModel {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "markov";
  /** The configuration its file records. */
  get config(): { dim: number; height?: number; width?: number } {
    return { dim: this.dim };
  }
  constructor(
    readonly dim: number,
    /** P(x_0 = 1), as a length-1 array. */
    readonly p0: Float32Array,
    /** [D - 1]: P(x_d = 1 | x_{d-1} = 0) for d = 1..D-1. */
    readonly p1Given0: Float32Array,
    /** [D - 1]: P(x_d = 1 | x_{d-1} = 1). */
    readonly p1Given1: Float32Array,
  ) {}

  static fit(x: Float32Array, d: number, options?: BaselineFitOptions): MarkovChain {
    const opts = checkOptions("MarkovChain.fit", options, FIT_KEYS);
    checkInteger("d", d, 1);
    const n = binaryRows("MarkovChain.fit", x, d, opts);
    const alpha = opts.alpha ?? 1;
    let first = 0;
    const ones = [new Float64Array(d), new Float64Array(d)]; // [prev][d]: count of x_d = 1
    const prevCount = [new Float64Array(d), new Float64Array(d)];
    for (let i = 0; i < n; i++) {
      const row = i * d;
      if (x[row]! > 0.5) first++;
      for (let j = 1; j < d; j++) {
        const prev = x[row + j - 1]! > 0.5 ? 1 : 0;
        prevCount[prev]![j]!++;
        if (x[row + j]! > 0.5) ones[prev]![j]!++;
      }
    }
    const cond = (prev: 0 | 1): Float32Array => {
      const out = new Float32Array(Math.max(0, d - 1));
      for (let j = 1; j < d; j++) out[j - 1] = (ones[prev]![j]! + alpha) / (prevCount[prev]![j]! + 2 * alpha);
      return out;
    };
    return new MarkovChain(d, Float32Array.of((first + alpha) / (n + 2 * alpha)), cond(0), cond(1));
  }

  paramCount(): number {
    return 2 * this.dim - 1;
  }

  private probOne(j: number, prevOne: boolean): number {
    if (j === 0) return this.p0[0]!;
    return (prevOne ? this.p1Given1 : this.p1Given0)[j - 1]!;
  }

  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const n = binaryRows("MarkovChain.logProbSync", x, this.dim, checkOptions("MarkovChain.logProbSync", opts, SYNC_INPUT_KEYS));
    const out = new Float32Array(n);
    this.logProbRows(x, 0, n, out);
    return out;
  }

  async logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array> {
    const o = checkOptions("MarkovChain.logProb", opts, INPUT_CALL_KEYS);
    const n = binaryRows("MarkovChain.logProb", x, this.dim, { checkInput: false });
    const out = new Float32Array(n);
    // the values are checked slice by slice too: that pass is as long as the work itself
    await runChunkedJs(n, sliceRows(this.dim), o, (b, e) => {
      if (o.checkInput !== false) checkInputValues("MarkovChain.logProb", x, this.dim, "binary", b, e);
      this.logProbRows(x, b, e, out);
    });
    return out;
  }

  private logProbRows(x: Float32Array, begin: number, end: number, out: Float32Array): void {
    for (let i = begin; i < end; i++) {
      let s = 0;
      let prev = false;
      for (let j = 0; j < this.dim; j++) {
        const one = x[i * this.dim + j]! > 0.5;
        s += logBern(this.probOne(j, prev), one);
        prev = one;
      }
      out[i] = s;
    }
  }

  sampleSync(n: number, options: SyncSampleOptions): Samples {
    const opts = checkOptions("MarkovChain.sampleSync", options, SYNC_SAMPLE_KEYS, ["seed"]);
    return sizedRequest("MarkovChain.sample", n, 4 * this.dim * (opts.returnProbs ? 2 : 1), () => {
      const s = this.allocSamples(n, opts);
      this.drawRows(s, new PixelUniforms(seedToKey(opts.seed), SAMPLE_STREAM), 0, n);
      return s;
    });
  }

  private allocSamples(n: number, opts: { returnProbs?: boolean }): Samples {
    const x = new Float32Array(n * this.dim);
    return opts.returnProbs ? { x, probs: new Float32Array(n * this.dim), n } : { x, n };
  }

  private drawRows(s: Samples, u: PixelUniforms, begin: number, end: number): void {
    for (let i = begin; i < end; i++) {
      let prev = false;
      for (let j = 0; j < this.dim; j++) {
        const p = this.probOne(j, prev);
        if (s.probs) s.probs[i * this.dim + j] = p;
        prev = u.at(i, j) < p;
        s.x[i * this.dim + j] = prev ? 1 : 0;
      }
    }
  }

  /** The samples of many requests in one call, each exactly its lone sample (lib/models/batch.ts). */
  sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    return sampleEachInTurn(requests, opts, false, (r, o) => this.sample(r.n, { ...o, seed: r.seed }));
  }

  async sample(n: number, opts: SampleOptions): Promise<Samples> {
    const o = checkOptions("MarkovChain.sample", opts, SAMPLE_KEYS, ["seed"]);
    return sizedRequest("MarkovChain.sample", n, 4 * this.dim * (o.returnProbs ? 2 : 1), async () => {
      const u = new PixelUniforms(seedToKey(o.seed), SAMPLE_STREAM);
      const s = this.allocSamples(n, o);
      await runChunkedJs(n, sliceRows(this.dim), o, (b, e) => this.drawRows(s, u, b, e));
      return s;
    });
  }

  async save(path: string): Promise<void> {
    const d1 = this.dim - 1;
    await saveModelFile(
      path,
      this.kind,
      { dim: this.dim },
      {
        p0: { shape: [1], data: this.p0 },
        p1Given0: { shape: [d1], data: this.p1Given0 },
        p1Given1: { shape: [d1], data: this.p1Given1 },
      },
    );
  }

  static async load(path: string): Promise<MarkovChain> {
    const f = await loadModelFile<{ dim: number }>(path, "markov");
    const { dim } = fileConfig(f, path, baselineConfig);
    return new MarkovChain(dim, requireF32(f, "p0", [1]), requireF32(f, "p1Given0", [dim - 1]), requireF32(f, "p1Given1", [dim - 1]));
  }
}
