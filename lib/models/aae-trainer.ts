/**
 * Training of an Aae (lib/models/aae.ts). Each minibatch runs three phases, each with its
 * own Adam:
 *   1. reconstruction: encoder + decoder minimize the cross-entropy -log p(x | E(x));
 *   2. discriminator: D minimizes BCE(D(z ~ prior), 1) + BCE(D(E(x)), 0) (mean over the 2m codes);
 *   3. generator: the encoder minimizes BCE(D(E(x)), 1) (the non-saturating GAN loss).
 * Adversarial training has no monotone objective: fit keeps the final parameters (no
 * best-epoch restore) and reports, per epoch, the reconstruction error, the discriminator's
 * loss and accuracy and the generator's loss.
 *
 * Regularizing the encoder (why): on the ~7,200 training images of the canonical split the
 * encoder learns to place *training* codes where D cannot tell them from prior draws, while
 * held-out codes land off the prior (D accuracy on validation codes 0.6-0.7 with 0.53 on
 * training batches). Three fit options narrow that gap: inputDropout (each input pixel is
 * zeroed with that probability in the encoder's input of all three phases, Philox noise; the
 * reconstruction target stays clean: a denoising autoencoder), weightDecay (decoupled, on the
 * encoder and decoder) and lrDecay (all three learning rates fall linearly to lr * lrDecay at
 * the last epoch, so the final parameters are not a snapshot of an oscillating game).
 * With select = "validation", fit keeps instead the epoch whose validation codes the
 * discriminator tells from prior draws no better than SELECT_BAND around chance (validation
 * accuracy within 0.5 +- 0.05) and, among those, the lowest validation reconstruction error;
 * the last epoch when none qualifies. Only validation images choose: test figures stay honest.
 *
 * Checkpoints add to the model file the Adam states of the three phases (ae.adam.*,
 * disc.adam.*, gen.adam.*) and, with select "validation", the chosen epoch's parameters.
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { gatherRows } from "../data/batching.js";
import { type Dataset, makeDataset } from "../data/dataset.js";
import { modelMetadata, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import type { Net } from "../nn/conv-nets.js";
import { adamStates, loadAdamStates, readPhasedCheckpoint } from "./checkpoint.js";
import { modelKernels } from "./common.js";
import { loadNetParams } from "./latent.js";
import { type PriorKind, samplePrior } from "./priors.js";
import {
  type EpochRecord,
  FIT_FIELDS,
  type FitOptions,
  freshState,
  runTrainingLoop,
  trainValidationSplit,
  type TrainingState,
} from "./trainer.js";

export interface AaeTerms {
  /** Mean cross-entropy -log p(x | E(x)) in nats per image. */
  reconstruction: number;
  /** Mean discriminator BCE over codes and prior draws. */
  discriminatorLoss: number;
  /** Fraction of codes and prior draws the discriminator classifies correctly. */
  discriminatorAccuracy: number;
  /** Mean generator (encoder) BCE against label 1. */
  generatorLoss: number;
}

export interface AaeEpochRecord extends EpochRecord {
  terms: AaeTerms;
  /** Validation reconstruction error and discriminator accuracy after the epoch. */
  validationTerms?: { reconstruction: number; discriminatorAccuracy: number };
}

/** Defaults: 100 epochs, batches of 100; checkpoints hold the parameters and the three Adam states. */
export interface AaeFitOptions extends FitOptions<AaeEpochRecord> {
  /** Learning rate of the reconstruction phase (default 1e-3). */
  lr?: number;
  /**
   * Learning rate of the discriminator and generator phases (Adam with beta1 = 0.5; default
   * 1e-3: with 1e-4 the codes of MNIST (2-D, mog10) stayed far wider than the prior after 30
   * epochs, discriminator accuracy ~0.84; with 1e-3 ~0.6).
   */
  adversarialLr?: number;
  /** Probability of zeroing each input pixel of the encoder in the three phases (default 0; see the file comment). */
  inputDropout?: number;
  /** Decoupled weight decay of the encoder and decoder (default 0). */
  weightDecay?: number;
  /** Learning rates fall linearly to this fraction of their start by the last epoch (default 1: constant). */
  lrDecay?: number;
  /** Discriminator updates per minibatch (default 1), each against fresh prior draws. */
  discSteps?: number;
  /** "last" (default): keep the final parameters; "validation": the epoch chosen on validation (see the file comment). */
  select?: AaeSelect;
  /** Validation images ([n, D]) or a fraction of the training set to carve out (default 0.1). */
  validation?: Float32Array | number;
}

export const AAE_SELECT = ["last", "validation"] as const;
export type AaeSelect = (typeof AAE_SELECT)[number];
/** select "validation": epochs qualify when |validation discriminator accuracy - 0.5| <= SELECT_BAND. */
export const SELECT_BAND = 0.05;

export interface AaeFitResult extends TrainingState {
  /** The epoch whose parameters the model holds (select "validation"), else the last. */
  selectedEpoch: number;
  trainSize: number;
  validationSize: number;
  history: AaeEpochRecord[];
}

/** Prior draws of training step t use stream PRIOR_STREAM_BASE + t; evaluation uses EVAL_PRIOR_STREAM. */
const PRIOR_STREAM_BASE = 0x10000;
/** Extra discriminator step j >= 1 of training step t draws the prior from stream EXTRA_PRIOR_STREAM_BASE + j * 2^24 + t. */
const EXTRA_PRIOR_STREAM_BASE = 0x50000000;
/**
 * out[i] = 0 where the uniform draw out[i] < p, else x[i]: input dropout in place over the
 * draws. A function of its own so that V8 optimizes this loop apart from the training step
 * around it (inline there, it ran at about 12 ns a pixel, 15% of an AAE epoch), and a product
 * instead of a branch, which mispredicted on every dropped pixel (the inputs are 0 or 1, so
 * x * 0 is 0).
 */
function dropPixels(out: Float32Array, x: Float32Array, p: number): void {
  for (let i = 0; i < out.length; i++) out[i] = x[i]! * Number(out[i]! >= p);
}

/** Input-dropout noise of training step t uses stream DROPOUT_STREAM_BASE + t. */
const DROPOUT_STREAM_BASE = 0x40000000;

/**
 * What training needs of the model: Aae (lib/models/aae.ts) passes itself from its fit.
 * Spelt out here so that the model's file imports its trainer and not the other way round.
 */
export interface AaeUnderTraining {
  readonly kind: string;
  readonly config: { readonly prior: PriorKind };
  readonly backend: BackendName | undefined;
  readonly dim: number;
  readonly latent: number;
  readonly encoder: Net;
  readonly decoder: Net;
  readonly discriminator: Net;
  reconstructionError(x: Float32Array, opts: { backend?: BackendName; checkInput?: boolean }): number;
  discriminatorAccuracy(x: Float32Array, opts: { backend?: BackendName; seed?: Seed; checkInput?: boolean }): number;
  /** The model file's tensors: the three networks' parameters. */
  tensors(): Record<string, TensorToWrite>;
}

const FIT_KEYS = optionKeys<AaeFitOptions>({
  ...FIT_FIELDS,
  adversarialLr: true,
  inputDropout: true,
  weightDecay: true,
  lrDecay: true,
  discSteps: true,
  select: true,
  validation: true,
});

export async function fitAae(model: AaeUnderTraining, train: Float32Array | Dataset, options?: AaeFitOptions): Promise<AaeFitResult> {
  const opts = checkOptions("Aae.fit", options, FIT_KEYS);
  const seed = opts.seed ?? 0;
  const { trainX, validX, n } = trainValidationSplit(train, model.dim, opts.validation ?? 0.1, seed, {
    domain: "binary",
    checkInput: opts.checkInput,
  });
  const batchSize = checkInteger("batchSize", opts.batchSize ?? 100, 1);
  const epochs = checkInteger("epochs", opts.epochs ?? 100, 0);
  const k = modelKernels(model.backend, opts.backend);
  const L = model.latent;
  const D = model.dim;
  const lr = opts.lr ?? 1e-3;
  const weightDecay = opts.weightDecay ?? 0;
  const inputDropout = opts.inputDropout ?? 0;
  const lrDecay = opts.lrDecay ?? 1;
  const discSteps = checkInteger("discSteps", opts.discSteps ?? 1, 1, 100);
  const select = checkOneOf("select", opts.select ?? "last", AAE_SELECT);
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new DeepgenError("E_ARG", `weightDecay must be >= 0, got ${weightDecay}`);
  if (!(inputDropout >= 0 && inputDropout < 1)) throw new DeepgenError("E_ARG", `inputDropout must be in [0, 1), got ${inputDropout}`);
  if (!(lrDecay > 0 && lrDecay <= 1)) throw new DeepgenError("E_ARG", `lrDecay must be in (0, 1], got ${lrDecay}`);
  const aeAdam = new Adam({ ...model.encoder.params(), ...model.decoder.params() }, { lr, weightDecay });
  const advLr = opts.adversarialLr ?? 1e-3;
  if (!(advLr > 0)) throw new DeepgenError("E_ARG", `adversarialLr must be > 0, got ${advLr}`);
  const discAdam = new Adam(model.discriminator.params(), { lr: advLr, beta1: 0.5 });
  const genAdam = new Adam(model.encoder.params(), { lr: advLr, beta1: 0.5 });
  const aeGrads = { ...model.encoder.grads(), ...model.decoder.grads() };
  const encGrads = model.encoder.grads();
  const discGrads = model.discriminator.grads();
  const trainSet = makeDataset(trainX, undefined, 1, D);
  const batchX = new Float32Array(batchSize * D);
  const dlogits = new Float32Array(batchSize * D);
  const codes2 = new Float32Array(2 * batchSize * L);
  const labels2 = new Float32Array(2 * batchSize);
  const dd = new Float32Array(2 * batchSize);
  const ones = new Float32Array(batchSize).fill(1);
  const noisyX = new Float32Array(inputDropout > 0 ? batchSize * D : 0);
  const totalSteps = Math.max(1, epochs * Math.ceil(n / batchSize));
  const sums = { rec: 0, dLoss: 0, dCorrect: 0, gLoss: 0, seen: 0 };
  let step = 0;
  const adams = { ae: aeAdam, disc: discAdam, gen: genAdam };
  const params = allParams(model);
  // select "validation": a copy of the chosen epoch's parameters (chosen.epoch 0: none yet)
  const best: Record<string, Float32Array> = {};
  if (select === "validation") for (const [name, p] of Object.entries(params)) best[name] = p.slice();
  let chosen = { epoch: 0, reconstruction: Infinity };
  let state = freshState();
  if (opts.resumeFrom !== undefined) {
    const cp = await loadCheckpoint(model, opts.resumeFrom, adams, best);
    state = cp.state;
    step = cp.step;
    chosen = cp.chosen;
  }
  const history = state.history as AaeEpochRecord[];
  // The loop records each epoch before the checkpoint and onEpoch hooks; the first of them
  // to see it adds the terms (so checkpoints hold them too).
  const finishEpoch = (st: TrainingState): AaeEpochRecord => {
    const last = st.history[st.history.length - 1]!;
    if ("terms" in last) return last as AaeEpochRecord;
    const s = Math.max(1, sums.seen);
    const rec: AaeEpochRecord = {
      ...last,
      terms: {
        reconstruction: sums.rec / s,
        discriminatorLoss: sums.dLoss / s,
        discriminatorAccuracy: sums.dCorrect / (2 * s),
        generatorLoss: sums.gLoss / s,
      },
    };
    if (lastValid !== undefined) rec.validationTerms = lastValid;
    st.history[st.history.length - 1] = rec; // (the same array as `history`)
    return rec;
  };
  let lastValid: AaeEpochRecord["validationTerms"];
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
        Object.assign(sums, { rec: 0, dLoss: 0, dCorrect: 0, gLoss: 0, seen: 0 });
        await opts.onEpoch?.(rec, st);
      },
    },
    {
      trainBatch: async (indices) => {
        const m = indices.length;
        step++;
        gatherRows(trainSet, indices, batchX);
        const x = batchX.subarray(0, m * D);
        // linear learning-rate decay by step (a function of the step: resumed runs follow it)
        const f = 1 - ((1 - lrDecay) * Math.min(step - 1, totalSteps)) / totalSteps;
        aeAdam.opts.lr = lr * f;
        discAdam.opts.lr = advLr * f;
        genAdam.opts.lr = advLr * f;
        // the encoder's input: x with pixels dropped (denoising), or x itself
        let xin = x;
        if (inputDropout > 0) {
          xin = noisyX.subarray(0, m * D);
          k.philoxFill(xin, seed, (DROPOUT_STREAM_BASE + step) >>> 0, "uniform");
          dropPixels(xin, x, inputDropout);
        }
        // 1. reconstruction
        const z = model.encoder.forward(k, xin, m);
        const logits = model.decoder.forward(k, z, m);
        const rec = k.bceWithLogitsForward(null, logits, x, m, D);
        const dl = dlogits.subarray(0, m * D);
        k.bceWithLogitsBackward(dl, logits, x, m, D, 1 / m);
        const dz = model.decoder.backward(k, dl, m, true)!;
        model.encoder.backward(k, dz, m, false);
        aeAdam.update(k, aeGrads);
        // 2. discriminator: prior draws (label 1) then codes (label 0)
        const c2 = codes2.subarray(0, 2 * m * L);
        samplePrior(model.config.prior, m, L, seed, (PRIOR_STREAM_BASE + step) >>> 0, c2.subarray(0, m * L));
        const fakeCodes = model.encoder.forward(k, xin, m);
        c2.set(fakeCodes, m * L);
        const lab = labels2.subarray(0, 2 * m);
        lab.fill(1, 0, m);
        lab.fill(0, m, 2 * m);
        const ddv = dd.subarray(0, 2 * m);
        let dLoss = 0;
        let correct = 0;
        for (let j = 0; j < discSteps; j++) {
          // extra discriminator steps: the same codes against fresh prior draws
          if (j > 0)
            samplePrior(model.config.prior, m, L, seed, (EXTRA_PRIOR_STREAM_BASE + j * 0x1000000 + step) >>> 0, c2.subarray(0, m * L));
          const dOut = model.discriminator.forward(k, c2, 2 * m);
          if (j === 0) {
            // the terms reported: the first step's, before this batch's updates
            dLoss = k.bceWithLogitsForward(null, dOut, lab, 2 * m, 1);
            for (let i = 0; i < 2 * m; i++) if (dOut[i]! > 0 === i < m) correct++;
          }
          k.bceWithLogitsBackward(ddv, dOut, lab, 2 * m, 1, 1 / (2 * m));
          model.discriminator.backward(k, ddv, 2 * m, false);
          discAdam.update(k, discGrads);
        }
        // 3. generator: the encoder (its activations still those of step 2) fools the updated D
        const gOut = model.discriminator.forward(k, fakeCodes, m);
        const gLoss = k.bceWithLogitsForward(null, gOut, ones.subarray(0, m), m, 1);
        const dg = ddv.subarray(0, m);
        k.bceWithLogitsBackward(dg, gOut, ones.subarray(0, m), m, 1, 1 / m);
        const dcode = model.discriminator.backward(k, dg, m, true)!;
        model.encoder.backward(k, dcode, m, false);
        genAdam.update(k, encGrads);
        sums.rec += rec;
        sums.dLoss += dLoss / 2;
        sums.dCorrect += correct;
        sums.gLoss += gLoss;
        sums.seen += m;
        return rec;
      },
      validate: async () => {
        lastValid = {
          reconstruction: model.reconstructionError(validX, { backend: k.backend, checkInput: false }),
          discriminatorAccuracy: model.discriminatorAccuracy(validX, { backend: k.backend, seed, checkInput: false }),
        };
        if (
          select === "validation" &&
          Math.abs(lastValid.discriminatorAccuracy - 0.5) <= SELECT_BAND &&
          lastValid.reconstruction < chosen.reconstruction
        ) {
          chosen = { epoch: state.epoch + 1, reconstruction: lastValid.reconstruction };
          for (const [name, p] of Object.entries(params)) best[name]!.set(p);
        }
        return lastValid.reconstruction;
      },
      // adversarial training: the final parameters are kept (see the file comment)
      keepBest: () => undefined,
      restoreBest: () => {
        if (chosen.epoch > 0) for (const [name, p] of Object.entries(params)) p.set(best[name]!);
      },
      checkpoint:
        opts.checkpointPath === undefined
          ? undefined
          : (st) => {
              finishEpoch(st);
              return saveCheckpoint(model, opts.checkpointPath!, adams, st, step, select === "validation" ? { best, chosen } : undefined);
            },
    },
    state,
  );
  return {
    ...result,
    history,
    selectedEpoch: chosen.epoch > 0 ? chosen.epoch : result.epoch,
    trainSize: n,
    validationSize: validX.length / D,
  };
}

/** Parameters and the three optimizers' states (each under its own prefix: ae., disc., gen.). */
async function saveCheckpoint(
  model: AaeUnderTraining,
  path: string,
  adams: Record<string, Adam>,
  state: TrainingState,
  step: number,
  selection?: { best: Record<string, Float32Array>; chosen: { epoch: number; reconstruction: number } },
): Promise<void> {
  const states = adamStates(adams);
  const steps = states.steps;
  const tensors = { ...model.tensors(), ...states.tensors };
  // select "validation": the chosen epoch's parameters as best.<name>
  if (selection !== undefined)
    for (const [name, t] of Object.entries(model.tensors())) tensors[`best.${name}`] = { shape: t.shape, data: selection.best[name]! };
  const chosen =
    selection === undefined
      ? undefined
      : {
          epoch: selection.chosen.epoch,
          reconstruction: Number.isFinite(selection.chosen.reconstruction) ? selection.chosen.reconstruction : null,
        };
  await writeSafetensors(
    path,
    tensors,
    modelMetadata(model.kind, model.config, { "deepgen.checkpoint": JSON.stringify({ state, step, adamSteps: steps, chosen }) }),
  );
}

/** Parameters of the three networks by name. */
function allParams(model: AaeUnderTraining): Record<string, Float32Array> {
  return { ...model.encoder.params(), ...model.decoder.params(), ...model.discriminator.params() };
}

async function loadCheckpoint(
  model: AaeUnderTraining,
  path: string,
  adams: Record<string, Adam>,
  best: Record<string, Float32Array>,
): Promise<{ state: TrainingState; step: number; chosen: { epoch: number; reconstruction: number } }> {
  type Meta = {
    state: TrainingState;
    step: number;
    adamSteps: Record<string, number>;
    chosen?: { epoch: number; reconstruction: number | null };
  };
  const { file, cp } = await readPhasedCheckpoint<unknown, Meta>(path, "aae", model.config);
  for (const net of [model.encoder, model.decoder, model.discriminator]) loadNetParams(file, net);
  loadAdamStates(file.tensors, adams, cp.adamSteps);
  const wantBest = Object.keys(best).length > 0;
  if (wantBest !== (cp.chosen !== undefined)) {
    throw new DeepgenError("E_FORMAT", `${path}: the checkpoint was written with a different 'select' option`);
  }
  if (wantBest) {
    const shapes = { ...model.encoder.shapes(), ...model.decoder.shapes(), ...model.discriminator.shapes() };
    for (const [name, shape] of Object.entries(shapes)) best[name]!.set(requireF32(file, `best.${name}`, shape));
  }
  const chosen = { epoch: cp.chosen?.epoch ?? 0, reconstruction: cp.chosen?.reconstruction ?? Infinity };
  return { state: cp.state, step: cp.step, chosen };
}
