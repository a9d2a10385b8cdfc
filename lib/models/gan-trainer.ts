/**
 * Adversarial training of a Gan (lib/models/gan.ts): alternating minibatch updates, each
 * network with its own Adam (beta1 = 0.5, as Radford et al. 2016):
 *   discriminator: minimize BCE(D(x), 1) + BCE(D(G(z)), 0), mean over the 2m examples
 *     (without batch norm in D, real and generated examples go through in one batch of 2m;
 *     with discNorm or discStddev, as two batches of m, so that D judges a generated batch by
 *     generated-batch statistics both in its own update and in the generator's: a mixed
 *     batch would let D learn on mixed statistics that the generator's pass never shows it,
 *     and the generator then "fools" a D that was never trained on what it sees);
 *   generator, after every k-th discriminator update, on the same G(z):
 *     "nonsaturating" (default): minimize BCE(D(G(z)), 1) = -log D(G(z));
 *     "minimax": minimize log(1 - D(G(z))) = -BCE(D(G(z)), 0), the original value function.
 * The discriminator's head (lib/models/gan-heads.ts) turns its outputs into logits and adds
 * the InfoGAN code loss (codeWeight x the code's cross-entropy on the generated rows, in both
 * objectives); a conditional model draws real rows with their data labels and generated rows
 * with uniform labels.
 *
 * Adversarial training has no validation objective: fit keeps the final parameters and
 * reports per epoch the two losses and the discriminator's mean outputs on real and
 * generated data. Checkpoints add both Adam states, the step counter and (with ema) the
 * averaged generator to the model file, and resume exactly.
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { gatherRows } from "../data/batching.js";
import { makeDataset } from "../data/dataset.js";
import { modelMetadata, requireF32 } from "../io/model-file.js";
import { type SafeTensor, type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import type { Net } from "../nn/conv-nets.js";
import { WeightAverage } from "../nn/weight-average.js";
import { adamStates, CHECKPOINT_KEY, loadAdamStates, readPhasedCheckpoint } from "./checkpoint.js";
import { type InputDomain, inputRows, modelKernels } from "./common.js";
import { CODE_STREAM_OFFSET, fillLatent } from "./gan-codes.js";
import { checkLabels, type DiscriminatorHead, type GanLossScratch, lossScratch } from "./gan-heads.js";
import { type EpochRecord, FIT_FIELDS, type FitOptions, freshState, runTrainingLoop, type TrainingState } from "./trainer.js";

export const GAN_LOSSES = ["nonsaturating", "minimax"] as const;
export type GanLoss = (typeof GAN_LOSSES)[number];

export interface GanTerms {
  /** Mean discriminator BCE over real and generated examples. */
  discriminatorLoss: number;
  /** Mean generator loss (of the chosen kind) over its updates. */
  generatorLoss: number;
  /** Mean D(x) on real data and D(G(z)) on generated data (before the D update). */
  dReal: number;
  dFake: number;
  /** With a code: mean CE(Q(c | G(z, c)), c) in nats on generated data (before the D update; log K = chance). */
  codeLoss?: number;
}

export interface GanEpochRecord extends EpochRecord {
  terms: GanTerms;
  /** Measurements an onEpoch hook attaches (e.g. the toy-data diagnostics); kept in later checkpoints. */
  diagnostics?: Record<string, number>;
}

/** Defaults: 25 epochs, batches of 64; checkpoints hold both Adam states and the step counter. */
export interface GanFitOptions extends FitOptions<GanEpochRecord> {
  /** Adam learning rate of both networks (default 2e-4, as Radford et al.). */
  lr?: number;
  discriminatorLr?: number;
  /** Both learning rates fall linearly by step to this fraction of their start at the last epoch (default 1: constant). */
  lrDecay?: number;
  /** Adam beta1 (default 0.5). */
  beta1?: number;
  /** Discriminator updates per generator update (k; default 1). */
  discriminatorSteps?: number;
  /**
   * Keep an exponential moving average of the generator's parameters with this decay (e.g.
   * 0.999; default 0: off). The per-epoch hooks then see, and fit leaves in the model, the
   * averaged generator, its batch-norm running statistics re-estimated for the averaged
   * weights (recalibrateBatchNorm); checkpoints hold both, so resume stays exact.
   */
  ema?: number;
  loss?: GanLoss;
  /** With an InfoGAN code: the weight of the code loss in both networks' objectives (default 1, as Chen et al. for discrete codes). */
  codeWeight?: number;
  /** A conditional model's class label of each training example, [n] in 0..codes-1. */
  labels?: ArrayLike<number>;
  /**
   * Top-k generator updates (Sinha et al. 2020): the generator learns only from the k samples
   * of its batch that the discriminator rates most real, k = ceil(m max(topK, 0.99^epoch)),
   * falling from the whole batch to this fraction (e.g. 0.5; default 1: every sample).
   */
  topK?: number;
}

export interface GanFitResult extends TrainingState {
  trainSize: number;
  history: GanEpochRecord[];
}

/**
 * Top-k training's kept count for a batch of m in epoch `epoch` (from 0): ceil(m max(topK,
 * 0.99^epoch)), the whole batch at first, then 1% fewer per epoch down to the fraction topK.
 */
export function topKKeep(m: number, topK: number, epoch: number): number {
  return Math.min(m, Math.ceil(m * Math.max(topK, 0.99 ** epoch)));
}

/**
 * What training needs of the model: Gan (lib/models/gan.ts) passes itself from its fit. Spelt
 * out here so that the model's file imports its trainer and not the other way round.
 */
export interface GanUnderTraining {
  readonly kind: string;
  readonly inputDomain: InputDomain;
  readonly config: { readonly discNorm?: boolean; readonly discStddev?: boolean };
  readonly backend: BackendName | undefined;
  readonly dim: number;
  readonly zdim: number;
  readonly codes: number;
  readonly latentDim: number;
  readonly generator: Net;
  readonly discriminator: Net;
  readonly head: DiscriminatorHead;
  generatorLossGradient(
    k: Kernels,
    x: Float32Array,
    m: number,
    loss: GanLoss,
    scratch: GanLossScratch,
    keep: number,
    info?: { codes: Int32Array; weight: number },
  ): { loss: number; dfake: Float32Array };
  recalibrateBatchNorm(opts: { seed?: Seed; backend?: BackendName }): void;
  /** The model file's tensors: both networks' parameters and running statistics. */
  tensors(): Record<string, TensorToWrite>;
  loadParams(file: { tensors: Map<string, SafeTensor> }): void;
}

/** Training step t draws z from this stream plus t (its codes from CODE_STREAM_OFFSET above that). */
const Z_STREAM_BASE = 0x20000;

function addInto(y: Float32Array, x: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + x[i]!;
}

/**
 * Adversarial training of `model` on x [n, dim] (images already in the generator's range:
 * [-1, 1] for tanh). Returns the per-epoch losses; the model keeps its final parameters.
 */
const FIT_KEYS = optionKeys<GanFitOptions>({
  ...FIT_FIELDS,
  discriminatorLr: true,
  lrDecay: true,
  beta1: true,
  discriminatorSteps: true,
  ema: true,
  loss: true,
  codeWeight: true,
  labels: true,
  topK: true,
});

export async function fitGan(model: GanUnderTraining, x: Float32Array, options?: GanFitOptions): Promise<GanFitResult> {
  const opts = checkOptions("Gan.fit", options, FIT_KEYS);
  const n = inputRows("Gan.fit: training examples", x, model.dim, model.inputDomain, opts);
  const seed = opts.seed ?? 0;
  const batchSize = checkInteger("batchSize", opts.batchSize ?? 64, 2);
  const epochs = checkInteger("epochs", opts.epochs ?? 25, 0);
  const kSteps = checkInteger("discriminatorSteps", opts.discriminatorSteps ?? 1, 1, 100);
  const loss = checkOneOf("loss", opts.loss ?? "nonsaturating", GAN_LOSSES);
  const lr = opts.lr ?? 2e-4;
  const beta1 = opts.beta1 ?? 0.5;
  const lrDecay = opts.lrDecay ?? 1;
  if (!(lrDecay > 0 && lrDecay <= 1)) throw new DeepgenError("E_ARG", `lrDecay must be in (0, 1], got ${lrDecay}`);
  const topK = opts.topK ?? 1;
  if (!(topK > 0 && topK <= 1)) throw new DeepgenError("E_ARG", `topK must be in (0, 1], got ${topK}`);
  const codeWeight = opts.codeWeight ?? 1;
  if (!(codeWeight >= 0 && Number.isFinite(codeWeight)))
    throw new DeepgenError("E_ARG", `codeWeight must be a finite number >= 0, got ${codeWeight}`);
  const k = modelKernels(model.backend, opts.backend);
  const { generator, discriminator, head } = model;
  const D = model.dim;
  const K = model.codes;
  const dataLabels = head.readsLabels ? checkLabels("fit", opts.labels, n, K) : null;
  const genAdam = new Adam(generator.params(), { lr, beta1 });
  const emaDecay = opts.ema ?? 0;
  if (!(emaDecay >= 0 && emaDecay < 1)) throw new DeepgenError("E_ARG", `ema must be in [0, 1), got ${emaDecay}`);
  const average = emaDecay > 0 ? new WeightAverage(generator.params(), emaDecay, { warmup: true }) : null;
  const discLr = opts.discriminatorLr ?? lr;
  const discAdam = new Adam(discriminator.params(), { lr: discLr, beta1 });
  const stepsPerEpoch = Math.max(1, Math.ceil(n / batchSize) - (n % batchSize === 1 ? 1 : 0)); // batches of one are skipped
  const totalSteps = Math.max(1, epochs * stepsPerEpoch);
  const genGrads = generator.grads();
  const discGrads = discriminator.grads();
  // D's output for an example depends on its batch (batch norm, minibatch stddev)
  const separateBatches = model.config.discNorm === true || model.config.discStddev === true;
  const logitsBuf = new Float32Array(2 * batchSize);
  const realGrads = separateBatches
    ? Object.fromEntries(Object.entries(discGrads).map(([name, g]) => [name, new Float32Array(g.length)]))
    : null;
  const data = makeDataset(x, undefined, 1, D);
  const both = new Float32Array(2 * batchSize * D);
  const z = new Float32Array(batchSize * model.latentDim);
  const labels = new Float32Array(2 * batchSize);
  const rowClasses = new Int32Array(2 * batchSize); // [real rows' labels (conditional); generated rows' codes]
  const dlogit = new Float32Array(2 * batchSize);
  const scratch = lossScratch(batchSize, K);
  const sums = { dLoss: 0, gLoss: 0, gUpdates: 0, dReal: 0, dFake: 0, codeLoss: 0, seen: 0 };
  let step = 0;
  const adams = { gen: genAdam, disc: discAdam };
  let state = freshState();
  if (opts.resumeFrom !== undefined) {
    const cp = await loadCheckpoint(model, opts.resumeFrom, adams, average);
    state = cp.state;
    step = cp.step;
  }
  const history = state.history as GanEpochRecord[];
  // The loop records each epoch before the checkpoint and onEpoch hooks run; the first of
  // them to see it adds the terms (so checkpoints hold them too).
  const finishEpoch = (st: TrainingState): GanEpochRecord => {
    const last = st.history[st.history.length - 1]!;
    if ("terms" in last) return last as GanEpochRecord;
    const s = Math.max(1, sums.seen);
    const rec: GanEpochRecord = {
      ...last,
      terms: {
        discriminatorLoss: sums.dLoss / s,
        generatorLoss: sums.gLoss / Math.max(1, sums.gUpdates),
        dReal: sums.dReal / s,
        dFake: sums.dFake / s,
        ...(head.hasCodeLoss ? { codeLoss: sums.codeLoss / s } : {}),
      },
    };
    st.history[st.history.length - 1] = rec;
    return rec;
  };
  generator.setTraining?.(true);
  discriminator.setTraining?.(true);
  try {
    const result = await runTrainingLoop(
      {
        n,
        batchSize,
        epochs,
        seed,
        patience: Infinity,
        signal: opts.signal,
        onBatch: opts.onBatch,
        onEpoch: async (_r, st) => {
          const rec = finishEpoch(st);
          Object.assign(sums, { dLoss: 0, gLoss: 0, gUpdates: 0, dReal: 0, dFake: 0, codeLoss: 0, seen: 0 });
          if (opts.onEpoch !== undefined) {
            const restore = average === null ? null : useAverage(model, average, seed, k.backend);
            try {
              await opts.onEpoch(rec, st);
            } finally {
              restore?.();
            }
          }
          generator.setTraining?.(true);
          discriminator.setTraining?.(true);
        },
      },
      {
        trainBatch: async (idx) => {
          const m = idx.length;
          if (m < 2) return 0; // a last batch of one cannot be batch-normalized; skipped
          step++;
          // linear decay by step (a function of the step: a resumed run follows the same schedule)
          const f = 1 - ((1 - lrDecay) * Math.min(step - 1, totalSteps)) / totalSteps;
          genAdam.opts.lr = lr * f;
          discAdam.opts.lr = discLr * f;
          // 1. discriminator on [real; G(z)], z (and the codes) from this step's own Philox streams
          const zb = z.subarray(0, m * model.latentDim);
          const codes = fillLatent(k, zb, m, model.zdim, K, seed, {
            noise: Z_STREAM_BASE + step,
            code: CODE_STREAM_OFFSET + Z_STREAM_BASE + step,
          });
          const fake = generator.forward(k, zb, m);
          const xb = both.subarray(0, 2 * m * D);
          gatherRows(data, idx, xb.subarray(0, m * D));
          xb.set(fake, m * D);
          if (dataLabels !== null) for (let i = 0; i < m; i++) rowClasses[i] = dataLabels[idx[i]!]!;
          rowClasses.set(codes, m);
          const lab = labels.subarray(0, 2 * m);
          lab.fill(1, 0, m);
          lab.fill(0, m, 2 * m);
          const dd = dlogit.subarray(0, 2 * m);
          const out = logitsBuf.subarray(0, 2 * m); // the real/fake logits of all 2m rows
          // D's forward and backward over rows [first, first + r) of [real; generated]
          const pass = (first: number, r: number): void => {
            const o = discriminator.forward(k, xb.subarray(first * D, (first + r) * D), r);
            const rf = out.subarray(first, first + r);
            const classes = rowClasses.subarray(first, first + r);
            head.logits(o, r, classes, rf, scratch);
            const drf = dd.subarray(first, first + r);
            k.bceWithLogitsBackward(drf, rf, lab.subarray(first, first + r), r, 1, 1 / (2 * m));
            // the code loss (InfoGAN) is learnt on the generated rows (those from m on) only
            const fromRow = Math.max(first, m) - first;
            const g = head.outputGradient(k, drf, r, classes, scratch, { from: fromRow, weight: codeWeight / m });
            if (g.codeLoss !== undefined) sums.codeLoss += g.codeLoss * (r - fromRow);
            discriminator.backward(k, g.dOut, r, false);
          };
          if (separateBatches) {
            // real batch, then generated batch; the parameter gradients of the two add
            pass(0, m);
            for (const [name, g] of Object.entries(discGrads)) realGrads![name]!.set(g);
            pass(m, m);
            for (const [name, g] of Object.entries(discGrads)) addInto(g, realGrads![name]!);
          } else pass(0, 2 * m);
          const dLoss = k.bceWithLogitsForward(null, out, lab, 2 * m, 1);
          for (let i = 0; i < m; i++) sums.dReal += 1 / (1 + Math.exp(-out[i]!));
          for (let i = m; i < 2 * m; i++) sums.dFake += 1 / (1 + Math.exp(-out[i]!));
          discAdam.update(k, discGrads);
          sums.dLoss += dLoss / 2;
          sums.seen += m;
          if (step % kSteps !== 0) return dLoss / 2;
          // 2. generator on the same G(z) (its activations are still those of step 1)
          // top-k: a function of the step's epoch, so a resumed run follows it too
          const keep = topKKeep(m, topK, Math.floor((step - 1) / stepsPerEpoch));
          const g = model.generatorLossGradient(k, fake, m, loss, scratch, keep, K > 0 ? { codes, weight: codeWeight } : undefined);
          generator.backward(k, g.dfake, m, false);
          genAdam.update(k, genGrads);
          average?.update();
          sums.gLoss += g.loss * m;
          sums.gUpdates += m;
          return dLoss / 2;
        },
        validate: async () => undefined,
        keepBest: () => undefined,
        restoreBest: () => undefined,
        checkpoint:
          opts.checkpointPath === undefined
            ? undefined
            : (st) => {
                finishEpoch(st);
                return saveCheckpoint(model, opts.checkpointPath!, adams, st, step, average);
              },
      },
      state,
    );
    return { ...result, history, trainSize: n };
  } finally {
    generator.setTraining?.(false);
    discriminator.setTraining?.(false);
    if (average !== null) {
      average.swap(); // the model keeps the averaged generator
      model.recalibrateBatchNorm({ seed, backend: k.backend });
    }
  }
}

/**
 * Puts the averaged generator in place (batch norm recalibrated for it) and returns how to
 * put the live generator and its running statistics back.
 */
function useAverage(model: GanUnderTraining, average: WeightAverage, seed: Seed, backend: BackendName): () => void {
  const running = Object.values(model.generator.buffers?.() ?? {}).map((b) => [b.data, b.data.slice()] as const);
  average.swap();
  model.recalibrateBatchNorm({ seed, backend });
  return () => {
    average.swap();
    for (const [data, saved] of running) data.set(saved);
  };
}

async function saveCheckpoint(
  model: GanUnderTraining,
  path: string,
  adams: Record<string, Adam>,
  state: TrainingState,
  step: number,
  average: WeightAverage | null,
): Promise<void> {
  const states = adamStates(adams);
  const tensors = { ...model.tensors(), ...states.tensors };
  const shapes = model.generator.shapes();
  if (average !== null)
    for (const [name, a] of Object.entries(average.averages)) tensors[`ema.${name}`] = { shape: shapes[name]!, data: a };
  await writeSafetensors(
    path,
    tensors,
    modelMetadata(model.kind, model.config, {
      [CHECKPOINT_KEY]: JSON.stringify({
        state,
        step,
        adamSteps: states.steps,
        ...(average === null ? {} : { emaUpdates: average.updates }),
      }),
    }),
  );
}

async function loadCheckpoint(
  model: GanUnderTraining,
  path: string,
  adams: Record<string, Adam>,
  average: WeightAverage | null,
): Promise<{ state: TrainingState; step: number }> {
  const { file, cp } = await readPhasedCheckpoint<
    unknown,
    { state: TrainingState; step: number; adamSteps: Record<string, number>; emaUpdates?: number }
  >(path, "gan", model.config);
  model.loadParams(file);
  if (average !== null) {
    // a checkpoint of a run without averaging starts the average (and its warm-up) at its
    // parameters; one written before the warm-up existed continues at the full decay
    const shapes = model.generator.shapes();
    const saved = Object.keys(average.averages).every((name) => file.tensors.has(`ema.${name}`));
    for (const [name, a] of Object.entries(average.averages))
      a.set(saved ? requireF32(file, `ema.${name}`, shapes[name]!) : model.generator.params()[name]!);
    average.updates = !saved ? 0 : Number.isInteger(cp.emaUpdates) && cp.emaUpdates! >= 0 ? cp.emaUpdates! : Number.MAX_SAFE_INTEGER;
  }
  loadAdamStates(file.tensors, adams, cp.adamSteps);
  return { state: cp.state, step: cp.step };
}
