/**
 * The GAN discriminator's last layer read three ways, one DiscriminatorHead each, chosen once
 * when the model is built (discriminatorHead):
 *   plain       one output, the real/fake logit;
 *   InfoGAN     1 + K outputs (Chen et al. 2016): column 0 the real/fake logit, columns 1..K
 *               the logits of Q(c | x), the categorical code read back from an example; both
 *               networks also minimize weight * CE(Q(c | G(z, c)), c), a lower bound on the
 *               mutual information between the code and the example (up to the constant H(c));
 *   projection  1 + K outputs of a class-conditional GAN (Miyato & Koyama 2018): with D's
 *               outputs o linear in its features phi(x), the logit of a row with label y is
 *               o_0 + o_(1+y) = psi(phi) + v_y . phi (+ a class bias); no code loss.
 * The training loop and the generator's loss then treat every head alike: logits from D's
 * outputs, the gradient with respect to D's outputs from the logits' gradient.
 */
import { DeepgenError } from "../core/errors.js";
import type { Kernels } from "../kernels/kernels.js";

/** Buffers of the loss steps for batches up to m (rows of real + generated: 2m) and a K-way code. */
export interface GanLossScratch {
  target: Float32Array;
  dlogit: Float32Array;
  realFake: Float32Array;
  codeLogits: Float32Array;
  dCode: Float32Array;
  onehot: Float32Array;
  dOut: Float32Array;
}

export function lossScratch(m: number, K: number): GanLossScratch {
  const n = 2 * m;
  return {
    target: new Float32Array(n),
    dlogit: new Float32Array(n),
    realFake: new Float32Array(n),
    codeLogits: new Float32Array(n * K),
    dCode: new Float32Array(n * K),
    onehot: new Float32Array(n * K),
    dOut: new Float32Array(n * (1 + K)),
  };
}

/** Which rows of a pass carry the code loss (rows from..r) and its weight (the 1/m of the mean included). */
type CodeLossRows = { from: number; weight: number };

export interface DiscriminatorHead {
  /** D's outputs per row. */
  readonly width: number;
  /** Whether D's and G's objectives have a code term to report (InfoGAN). */
  readonly hasCodeLoss: boolean;
  /** Whether the logits read each row's class label, which a caller must then supply (projection). */
  readonly readsLabels: boolean;
  /**
   * The real/fake logits [r] of D's outputs out [r, width] into `logits`; `classes` are the
   * rows' labels or codes (read by the projection head only).
   */
  logits(out: Float32Array, r: number, classes: ArrayLike<number>, logits: Float32Array, scratch: GanLossScratch): void;
  /**
   * The gradient with respect to D's outputs [r, width] from the logits' gradient (after
   * `logits` on the same rows). The InfoGAN head adds codeRows.weight times the code loss of
   * rows codeRows.from..r (their codes in `classes`) and returns that loss, a mean over those
   * rows in nats; the others return no code loss.
   */
  outputGradient(
    k: CodeLossKernels,
    dlogits: Float32Array,
    r: number,
    classes: Int32Array,
    scratch: GanLossScratch,
    codeRows: CodeLossRows,
  ): { dOut: Float32Array; codeLoss?: number };
}

type CodeLossKernels = Pick<Kernels, "softmaxCrossEntropyForward" | "softmaxCrossEntropyBackward">;

const plainHead: DiscriminatorHead = {
  width: 1,
  hasCodeLoss: false,
  readsLabels: false,
  logits: (out, r, _classes, logits) => logits.set(out.subarray(0, r)),
  outputGradient: (_k, dlogits) => ({ dOut: dlogits }),
};

class InfoGanHead implements DiscriminatorHead {
  readonly hasCodeLoss = true;
  readonly readsLabels = false;
  readonly width: number;

  constructor(private readonly K: number) {
    this.width = 1 + K;
  }

  logits(out: Float32Array, r: number, _classes: ArrayLike<number>, logits: Float32Array, scratch: GanLossScratch): void {
    splitOutputs(out, r, this.K, logits, scratch.codeLogits);
  }

  outputGradient(
    k: CodeLossKernels,
    dlogits: Float32Array,
    r: number,
    classes: Int32Array,
    scratch: GanLossScratch,
    codeRows: CodeLossRows,
  ): { dOut: Float32Array; codeLoss?: number } {
    const K = this.K;
    const { from, weight } = codeRows;
    const dCode = scratch.dCode.subarray(0, r * K).fill(0);
    let codeLoss: number | undefined;
    if (from < r)
      codeLoss = codeLossBackward(
        k,
        dCode.subarray(from * K),
        scratch.codeLogits.subarray(from * K),
        classes.subarray(from),
        r - from,
        K,
        weight,
        scratch.onehot,
      );
    const dOut = scratch.dOut.subarray(0, r * this.width);
    mergeOutputGrads(dOut, r, K, dlogits, dCode);
    return { dOut, codeLoss };
  }
}

class ProjectionHead implements DiscriminatorHead {
  readonly hasCodeLoss = false;
  readonly readsLabels = true;
  readonly width: number;

  constructor(private readonly K: number) {
    this.width = 1 + K;
  }

  logits(out: Float32Array, r: number, classes: ArrayLike<number>, logits: Float32Array): void {
    projectLogits(out, r, this.K, classes, logits);
  }

  outputGradient(
    _k: CodeLossKernels,
    dlogits: Float32Array,
    r: number,
    classes: Int32Array,
    scratch: GanLossScratch,
  ): { dOut: Float32Array } {
    const dOut = scratch.dOut.subarray(0, r * this.width);
    projectGrads(dOut, r, this.K, classes, dlogits);
    return { dOut };
  }
}

/** The head of a model with a K-way code (0: none), conditional on class labels or InfoGAN's. */
export function discriminatorHead(K: number, conditional: boolean): DiscriminatorHead {
  if (K === 0) return plainHead;
  return conditional ? new ProjectionHead(K) : new InfoGanHead(K);
}

/**
 * Splits discriminator outputs [n, 1 + K] into the real/fake logits [n] and the code logits
 * [n, K] (contiguous, for the loss kernels).
 */
function splitOutputs(out: Float32Array, n: number, K: number, realFake: Float32Array, code: Float32Array): void {
  const w = 1 + K;
  for (let i = 0; i < n; i++) {
    realFake[i] = out[i * w]!;
    for (let j = 0; j < K; j++) code[i * K + j] = out[i * w + 1 + j]!;
  }
}

/** The inverse of splitOutputs for gradients: d [n, 1 + K] from dRealFake [n] and dCode [n, K] (null: zeros). */
function mergeOutputGrads(d: Float32Array, n: number, K: number, dRealFake: Float32Array, dCode: Float32Array | null): void {
  const w = 1 + K;
  for (let i = 0; i < n; i++) {
    d[i * w] = dRealFake[i]!;
    for (let j = 0; j < K; j++) d[i * w + 1 + j] = dCode === null ? 0 : dCode[i * K + j]!;
  }
}

/**
 * The code loss: mean over the n rows of CE(softmax(logits_i), codes_i) for logits [n, K],
 * and dlogits = scale (softmax - onehot) per row (scale includes the 1/n of the mean and the
 * loss weight). `onehot` is scratch of [n, K].
 */
function codeLossBackward(
  k: CodeLossKernels,
  dlogits: Float32Array,
  logits: Float32Array,
  codes: Int32Array,
  n: number,
  K: number,
  scale: number,
  onehot: Float32Array = new Float32Array(n * K),
): number {
  const t = onehot.subarray(0, n * K).fill(0);
  for (let i = 0; i < n; i++) t[i * K + codes[i]!] = 1;
  k.softmaxCrossEntropyBackward(dlogits.subarray(0, n * K), logits.subarray(0, n * K), t, n, K, scale);
  return k.softmaxCrossEntropyForward(null, logits.subarray(0, n * K), t, n, K) / n;
}

/** The projection logits [n] of D's outputs [n, 1 + K] for labels [n]: o_i0 + o_i(1+y_i). */
export function projectLogits(out: Float32Array, n: number, K: number, labels: ArrayLike<number>, logits: Float32Array): void {
  const w = 1 + K;
  for (let i = 0; i < n; i++) logits[i] = out[i * w]! + out[i * w + 1 + labels[i]!]!;
}

/** The gradient of projectLogits: d [n, 1 + K] gets dlogits[i] in columns 0 and 1 + y_i, zeros elsewhere. */
export function projectGrads(d: Float32Array, n: number, K: number, labels: ArrayLike<number>, dlogits: Float32Array): void {
  const w = 1 + K;
  d.fill(0, 0, n * w);
  for (let i = 0; i < n; i++) {
    d[i * w] = dlogits[i]!;
    d[i * w + 1 + labels[i]!] = dlogits[i]!;
  }
}

/** Checks that `labels` holds n class labels in 0..K-1 (for a conditional model). */
export function checkLabels(what: string, labels: ArrayLike<number> | undefined, n: number, K: number): ArrayLike<number> {
  if (labels === undefined) throw new DeepgenError("E_ARG", `${what}: a conditional GAN needs the examples' class labels`);
  if (labels.length !== n) throw new DeepgenError("E_SHAPE", `${what}: ${labels.length} labels for ${n} examples`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < K))
      throw new DeepgenError("E_ARG", `${what}: label ${y} (example ${i}) is not a class in 0..${K - 1}`);
  }
  return labels;
}
