/**
 * Kernel group "loss": losses and log-densities of the generative models, row-wise over
 * [rows, cols] (a row is one example), their gradients, and float64 reductions
 * (native/kernels/cpu/loss.cc, js/loss.ts). Softmax cross-entropy trains classifiers (the
 * sample-quality metric's MNIST classifier).
 *
 * Forward methods return the float64 total over rows (added in row order) and, when `rowOut`
 * is given, write each row's value (rounded to float32) there. Backward methods take the
 * upstream factor `scale`: a number s (every row: s, e.g. 1 / rows for a mean over rows) or a
 * Float32Array [rows] (row r: scale[r], the upstream gradient of the per-row values). They
 * overwrite their outputs.
 *
 * Zero sizes: rows = 0 or cols = 0 are valid; forward totals and row values are 0 (log-sum-exp
 * of an empty row is -Infinity), backward writes nothing. reduceMean of an empty array throws
 * E_SHAPE.
 */
import { checkFloat32Array, checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { noCudaKernel } from "../cuda.js";
import { checkDisjointArrays } from "../validate.js";
import * as twin from "../js/loss.js";
import { callNative } from "../native.js";

/** Upstream factor of a backward: one number for all rows, or one value per row. */
export type LossScale = number | Float32Array;

/** Outputs of gaussianLogProbBackward; omitted ones are not computed. */
export interface GaussianLogProbGrads {
  dx?: Float32Array;
  dmu?: Float32Array;
  dlogvar?: Float32Array;
}

export interface LossKernels {
  /**
   * Binary cross-entropy with logits: logits z, targets x (in [0, 1]) [rows, cols];
   * per element softplus(z) - x z = max(z, 0) - x z + log1p(exp(-|z|)), summed per row.
   * Stable for any finite z (z = 100, x = 0 gives exactly 100; no overflow at 1e4).
   */
  bceWithLogitsForward(rowOut: Float32Array | null, logits: Float32Array, targets: Float32Array, rows: number, cols: number): number;
  /** dlogits [rows, cols] = s_r (sigmoid(z) - x). */
  bceWithLogitsBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
    scale?: LossScale,
  ): void;
  /**
   * Continuous-Bernoulli negative log-density (Loaiza-Ganem & Cunningham 2019) with logits z,
   * lambda = sigmoid(z), of targets x in [0, 1] [rows, cols]: per element
   * softplus(z) - x z - log C(z), C(z) = z / tanh(z / 2) the normalizer (Taylor series for
   * |z| < 0.05, i.e. lambda near 0.5; see native/kernels/cpu/loss.h). Float64 throughout.
   */
  continuousBernoulliNllForward(
    rowOut: Float32Array | null,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
  ): number;
  /** dlogits [rows, cols] = s_r (sigmoid(z) - x - (1/z - 1/sinh z)). */
  continuousBernoulliNllBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
    scale?: LossScale,
  ): void;
  /**
   * KL( N(mu, exp(logvar)) || N(0, I) ) per row of mu, logvar [rows, cols]:
   * 0.5 sum (mu^2 + exp(logvar) - 1 - logvar). For logvar > ~88 the float32 row value is
   * +Infinity while the returned float64 total stays finite.
   */
  gaussianKlForward(rowOut: Float32Array | null, mu: Float32Array, logvar: Float32Array, rows: number, cols: number): number;
  /** dmu = s_r mu, dlogvar = s_r 0.5 (exp(logvar) - 1), both [rows, cols]. */
  gaussianKlBackward(
    dmu: Float32Array,
    dlogvar: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    scale?: LossScale,
  ): void;
  /**
   * log N(x; mu, diag(exp(logvar))) per row of x, mu, logvar [rows, cols]:
   * sum -0.5 (log 2pi + logvar + (x - mu)^2 exp(-logvar)).
   */
  gaussianLogProbForward(
    rowOut: Float32Array | null,
    x: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
  ): number;
  /**
   * With w = (x - mu) exp(-logvar): dx = -s_r w, dmu = s_r w, dlogvar = 0.5 s_r ((x - mu) w - 1);
   * only the outputs present in `grads` are written.
   */
  gaussianLogProbBackward(
    grads: GaussianLogProbGrads,
    x: Float32Array,
    mu: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    scale?: LossScale,
  ): void;
  /**
   * Softmax cross-entropy of class logits z against target probabilities t [rows, cols]
   * (one-hot labels or soft targets): per row sum_c t_c (lse(z) - z_c), with a max-shifted
   * log-sum-exp in float64, so any finite logits give a finite loss (z = (1000, 0),
   * t = (0, 1): exactly 1000). Classes with t_c = 0 contribute nothing.
   */
  softmaxCrossEntropyForward(rowOut: Float32Array | null, logits: Float32Array, targets: Float32Array, rows: number, cols: number): number;
  /** dlogits [rows, cols] = s_r (T_r softmax(z) - t), T_r = sum_c t_c (1 for one-hot rows). */
  softmaxCrossEntropyBackward(
    dlogits: Float32Array,
    logits: Float32Array,
    targets: Float32Array,
    rows: number,
    cols: number,
    scale?: LossScale,
  ): void;
  /**
   * out [rows] = log sum_d exp(x [rows, cols]), max-shifted (no overflow for finite x).
   * -Infinity entries contribute nothing; a row of only -Infinity (or cols = 0) gives
   * -Infinity; a +Infinity entry gives +Infinity; a NaN entry gives NaN.
   */
  logSumExpForward(out: Float32Array, x: Float32Array, rows: number, cols: number): void;
  /**
   * dx [rows, cols] = dout[r] exp(x - lse[r]) (softmax times the upstream gradient), with lse
   * the forward's output. Rows with lse = -Infinity get 0; with lse = +Infinity, +Infinity
   * entries get NaN and the others 0.
   */
  logSumExpBackward(dx: Float32Array, x: Float32Array, lse: Float32Array, dout: Float32Array, rows: number, cols: number): void;
  /**
   * Sum of x in float64, in a fixed blocked order (blocks of 4096, 8 interleaved
   * accumulators each, blocks in order), identical on every backend and thread count.
   */
  reduceSum(x: Float32Array): number;
  /** reduceSum(x) / x.length; an empty x throws E_SHAPE. */
  reduceMean(x: Float32Array): number;
}

// ---- argument checks (shared by the lstm and optim groups) -----------------------------------

interface Dims {
  rows: number;
  cols: number;
  n: number;
}

function checkDims(fn: string, rows: unknown, cols: unknown): Dims {
  const r = checkInteger(`${fn} rows`, rows, 0);
  const c = checkInteger(`${fn} cols`, cols, 0);
  return { rows: r, cols: c, n: r * c };
}

function optional(fn: string, name: string, a: unknown): Float32Array | null {
  if (a === null || a === undefined) return null;
  return checkFloat32Array(`${fn} ${name}`, a);
}

/** The scale argument as the addon takes it: (scale, rowScale | null). */
function checkScale(fn: string, scale: unknown, rows: number): { scale: number; rowScale: Float32Array | null } {
  if (scale === undefined) return { scale: 1, rowScale: null };
  if (typeof scale === "number") {
    if (!Number.isFinite(scale)) throw new DeepgenError("E_ARG", `${fn}: scale must be a finite number`);
    return { scale, rowScale: null };
  }
  if (!(scale instanceof Float32Array)) {
    throw new DeepgenError("E_ARG", `${fn}: scale must be a number or a Float32Array [rows]`);
  }
  if (scale.length !== rows) {
    throw new DeepgenError("E_SHAPE", `${fn}: scale has ${scale.length} elements, expected rows = ${rows}`);
  }
  return { scale: 1, rowScale: scale };
}

type Scale = { scale: number; rowScale: Float32Array | null };

// Every method validates, then runs the JS twin or the addon with the same arguments.
interface Impl {
  bceForward(rowOut: Float32Array | null, z: Float32Array, x: Float32Array, d: Dims): number;
  bceBackward(dz: Float32Array, z: Float32Array, x: Float32Array, d: Dims, s: Scale): void;
  cbForward(rowOut: Float32Array | null, z: Float32Array, x: Float32Array, d: Dims): number;
  cbBackward(dz: Float32Array, z: Float32Array, x: Float32Array, d: Dims, s: Scale): void;
  klForward(rowOut: Float32Array | null, mu: Float32Array, lv: Float32Array, d: Dims): number;
  klBackward(dmu: Float32Array, dlv: Float32Array, mu: Float32Array, lv: Float32Array, d: Dims, s: Scale): void;
  logpForward(rowOut: Float32Array | null, x: Float32Array, mu: Float32Array, lv: Float32Array, d: Dims): number;
  logpBackward(
    dx: Float32Array | null,
    dmu: Float32Array | null,
    dlv: Float32Array | null,
    x: Float32Array,
    mu: Float32Array,
    lv: Float32Array,
    d: Dims,
    s: Scale,
  ): void;
  sceForward(rowOut: Float32Array | null, z: Float32Array, t: Float32Array, d: Dims): number;
  sceBackward(dz: Float32Array, z: Float32Array, t: Float32Array, d: Dims, s: Scale): void;
  lseForward(out: Float32Array, x: Float32Array, d: Dims): void;
  lseBackward(dx: Float32Array, x: Float32Array, lse: Float32Array, dout: Float32Array, d: Dims): void;
  sum(x: Float32Array): number;
  mean(x: Float32Array): number;
}

/** Checks of the losses of logits against targets (BCE, continuous Bernoulli), forward. */
function checkLogitLossForward(
  fn: string,
  rowOut: Float32Array | null | undefined,
  logits: Float32Array,
  targets: Float32Array,
  rows: number,
  cols: number,
): Dims {
  const d = checkDims(fn, rows, cols);
  checkDisjointArrays(
    fn,
    [["rowOut", optional(fn, "rowOut", rowOut), d.rows]],
    [
      ["logits", logits, d.n],
      ["targets", targets, d.n],
    ],
  );
  return d;
}

/** The same losses' backward: dlogits apart from every input. */
function checkLogitLossBackward(
  fn: string,
  dlogits: Float32Array,
  logits: Float32Array,
  targets: Float32Array,
  rows: number,
  cols: number,
  scale: Parameters<typeof checkScale>[1],
): { d: Dims; s: Scale } {
  const d = checkDims(fn, rows, cols);
  const s = checkScale(fn, scale, d.rows);
  checkDisjointArrays(
    fn,
    [["dlogits", dlogits, d.n]],
    [
      ["logits", logits, d.n],
      ["targets", targets, d.n],
      ["scale", s.rowScale, d.rows],
    ],
  );
  return { d, s };
}

function lossKernels(impl: Impl): LossKernels {
  return {
    bceWithLogitsForward(rowOut, logits, targets, rows, cols) {
      const d = checkLogitLossForward("bceWithLogitsForward", rowOut, logits, targets, rows, cols);
      return impl.bceForward(rowOut ?? null, logits, targets, d);
    },
    bceWithLogitsBackward(dlogits, logits, targets, rows, cols, scale) {
      const { d, s } = checkLogitLossBackward("bceWithLogitsBackward", dlogits, logits, targets, rows, cols, scale);
      impl.bceBackward(dlogits, logits, targets, d, s);
    },
    continuousBernoulliNllForward(rowOut, logits, targets, rows, cols) {
      const d = checkLogitLossForward("continuousBernoulliNllForward", rowOut, logits, targets, rows, cols);
      return impl.cbForward(rowOut ?? null, logits, targets, d);
    },
    continuousBernoulliNllBackward(dlogits, logits, targets, rows, cols, scale) {
      const { d, s } = checkLogitLossBackward("continuousBernoulliNllBackward", dlogits, logits, targets, rows, cols, scale);
      impl.cbBackward(dlogits, logits, targets, d, s);
    },
    gaussianKlForward(rowOut, mu, logvar, rows, cols) {
      const fn = "gaussianKlForward";
      const d = checkDims(fn, rows, cols);
      checkDisjointArrays(
        fn,
        [["rowOut", optional(fn, "rowOut", rowOut), d.rows]],
        [
          ["mu", mu, d.n],
          ["logvar", logvar, d.n],
        ],
      );
      return impl.klForward(rowOut ?? null, mu, logvar, d);
    },
    gaussianKlBackward(dmu, dlogvar, mu, logvar, rows, cols, scale) {
      const fn = "gaussianKlBackward";
      const d = checkDims(fn, rows, cols);
      const s = checkScale(fn, scale, d.rows);
      checkDisjointArrays(
        fn,
        [
          ["dmu", dmu, d.n],
          ["dlogvar", dlogvar, d.n],
        ],
        [
          ["mu", mu, d.n],
          ["logvar", logvar, d.n],
          ["scale", s.rowScale, d.rows],
        ],
      );
      impl.klBackward(dmu, dlogvar, mu, logvar, d, s);
    },
    gaussianLogProbForward(rowOut, x, mu, logvar, rows, cols) {
      const fn = "gaussianLogProbForward";
      const d = checkDims(fn, rows, cols);
      checkDisjointArrays(
        fn,
        [["rowOut", optional(fn, "rowOut", rowOut), d.rows]],
        [
          ["x", x, d.n],
          ["mu", mu, d.n],
          ["logvar", logvar, d.n],
        ],
      );
      return impl.logpForward(rowOut ?? null, x, mu, logvar, d);
    },
    gaussianLogProbBackward(grads, x, mu, logvar, rows, cols, scale) {
      const fn = "gaussianLogProbBackward";
      if (typeof grads !== "object" || grads === null) {
        throw new DeepgenError("E_ARG", `${fn}: grads must be an object { dx?, dmu?, dlogvar? }`);
      }
      const d = checkDims(fn, rows, cols);
      const dx = optional(fn, "dx", grads.dx);
      const dmu = optional(fn, "dmu", grads.dmu);
      const dlv = optional(fn, "dlogvar", grads.dlogvar);
      const s = checkScale(fn, scale, d.rows);
      checkDisjointArrays(
        fn,
        [
          ["dx", dx, d.n],
          ["dmu", dmu, d.n],
          ["dlogvar", dlv, d.n],
        ],
        [
          ["x", x, d.n],
          ["mu", mu, d.n],
          ["logvar", logvar, d.n],
          ["scale", s.rowScale, d.rows],
        ],
      );
      impl.logpBackward(dx, dmu, dlv, x, mu, logvar, d, s);
    },
    softmaxCrossEntropyForward(rowOut, logits, targets, rows, cols) {
      const fn = "softmaxCrossEntropyForward";
      const d = checkDims(fn, rows, cols);
      checkDisjointArrays(
        fn,
        [["rowOut", optional(fn, "rowOut", rowOut), d.rows]],
        [
          ["logits", logits, d.n],
          ["targets", targets, d.n],
        ],
      );
      return impl.sceForward(rowOut ?? null, logits, targets, d);
    },
    softmaxCrossEntropyBackward(dlogits, logits, targets, rows, cols, scale) {
      const fn = "softmaxCrossEntropyBackward";
      const d = checkDims(fn, rows, cols);
      const s = checkScale(fn, scale, d.rows);
      checkDisjointArrays(
        fn,
        [["dlogits", dlogits, d.n]],
        [
          ["logits", logits, d.n],
          ["targets", targets, d.n],
          ["scale", s.rowScale, d.rows],
        ],
      );
      impl.sceBackward(dlogits, logits, targets, d, s);
    },
    logSumExpForward(out, x, rows, cols) {
      const fn = "logSumExpForward";
      const d = checkDims(fn, rows, cols);
      checkDisjointArrays(fn, [["out", out, d.rows]], [["x", x, d.n]]);
      impl.lseForward(out, x, d);
    },
    logSumExpBackward(dx, x, lse, dout, rows, cols) {
      const fn = "logSumExpBackward";
      const d = checkDims(fn, rows, cols);
      checkDisjointArrays(
        fn,
        [["dx", dx, d.n]],
        [
          ["x", x, d.n],
          ["lse", lse, d.rows],
          ["dout", dout, d.rows],
        ],
      );
      impl.lseBackward(dx, x, lse, dout, d);
    },
    reduceSum(x) {
      checkFloat32Array("reduceSum x", x);
      return impl.sum(x);
    },
    reduceMean(x) {
      checkFloat32Array("reduceMean x", x);
      if (x.length === 0) throw new DeepgenError("E_SHAPE", "reduceMean: the mean of an empty array is undefined");
      return impl.mean(x);
    },
  };
}

export const jsLoss: LossKernels = lossKernels({
  bceForward: (rowOut, z, x, d) => twin.bceWithLogitsForward(rowOut, z, x, d.rows, d.cols),
  bceBackward: (dz, z, x, d, s) => twin.bceWithLogitsBackward(dz, z, x, d.rows, d.cols, s.scale, s.rowScale),
  cbForward: (rowOut, z, x, d) => twin.cbernoulliNllForward(rowOut, z, x, d.rows, d.cols),
  cbBackward: (dz, z, x, d, s) => twin.cbernoulliNllBackward(dz, z, x, d.rows, d.cols, s.scale, s.rowScale),
  klForward: (rowOut, mu, lv, d) => twin.gaussianKlForward(rowOut, mu, lv, d.rows, d.cols),
  klBackward: (dmu, dlv, mu, lv, d, s) => twin.gaussianKlBackward(dmu, dlv, mu, lv, d.rows, d.cols, s.scale, s.rowScale),
  logpForward: (rowOut, x, mu, lv, d) => twin.gaussianLogProbForward(rowOut, x, mu, lv, d.rows, d.cols),
  logpBackward: (dx, dmu, dlv, x, mu, lv, d, s) =>
    twin.gaussianLogProbBackward(dx, dmu, dlv, x, mu, lv, d.rows, d.cols, s.scale, s.rowScale),
  sceForward: (rowOut, z, t, d) => twin.softmaxCrossEntropyForward(rowOut, z, t, d.rows, d.cols),
  sceBackward: (dz, z, t, d, s) => twin.softmaxCrossEntropyBackward(dz, z, t, d.rows, d.cols, s.scale, s.rowScale),
  lseForward: (out, x, d) => twin.logSumExpForward(out, x, d.rows, d.cols),
  lseBackward: (dx, x, lse, dout, d) => twin.logSumExpBackward(dx, x, lse, dout, d.rows, d.cols),
  sum: (x) => twin.reduceSum(x),
  mean: (x) => twin.reduceSum(x) / x.length,
});

export const nativeLoss: LossKernels = lossKernels({
  bceForward: (rowOut, z, x, d) => callNative((a) => a.bceWithLogitsForward(rowOut, z, x, d.rows, d.cols)),
  bceBackward: (dz, z, x, d, s) => callNative((a) => a.bceWithLogitsBackward(dz, z, x, d.rows, d.cols, s.scale, s.rowScale)),
  cbForward: (rowOut, z, x, d) => callNative((a) => a.continuousBernoulliNllForward(rowOut, z, x, d.rows, d.cols)),
  cbBackward: (dz, z, x, d, s) => callNative((a) => a.continuousBernoulliNllBackward(dz, z, x, d.rows, d.cols, s.scale, s.rowScale)),
  klForward: (rowOut, mu, lv, d) => callNative((a) => a.gaussianKlForward(rowOut, mu, lv, d.rows, d.cols)),
  klBackward: (dmu, dlv, mu, lv, d, s) => callNative((a) => a.gaussianKlBackward(dmu, dlv, mu, lv, d.rows, d.cols, s.scale, s.rowScale)),
  logpForward: (rowOut, x, mu, lv, d) => callNative((a) => a.gaussianLogProbForward(rowOut, x, mu, lv, d.rows, d.cols)),
  logpBackward: (dx, dmu, dlv, x, mu, lv, d, s) =>
    callNative((a) => a.gaussianLogProbBackward(dx, dmu, dlv, x, mu, lv, d.rows, d.cols, s.scale, s.rowScale)),
  sceForward: (rowOut, z, t, d) => callNative((a) => a.softmaxCrossEntropyForward(rowOut, z, t, d.rows, d.cols)),
  sceBackward: (dz, z, t, d, s) => callNative((a) => a.softmaxCrossEntropyBackward(dz, z, t, d.rows, d.cols, s.scale, s.rowScale)),
  lseForward: (out, x, d) => callNative((a) => a.logSumExpForward(out, x, d.rows, d.cols)),
  lseBackward: (dx, x, lse, dout, d) => callNative((a) => a.logSumExpBackward(dx, x, lse, dout, d.rows, d.cols)),
  sum: (x) => callNative((a) => a.reduceSum(x)),
  mean: (x) => callNative((a) => a.reduceMean(x)),
});

export const cudaLoss: LossKernels = noCudaKernel<LossKernels>("loss", [
  "bceWithLogitsForward",
  "bceWithLogitsBackward",
  "continuousBernoulliNllForward",
  "continuousBernoulliNllBackward",
  "gaussianKlForward",
  "gaussianKlBackward",
  "gaussianLogProbForward",
  "gaussianLogProbBackward",
  "softmaxCrossEntropyForward",
  "softmaxCrossEntropyBackward",
  "logSumExpForward",
  "logSumExpBackward",
  "reduceSum",
  "reduceMean",
]);
