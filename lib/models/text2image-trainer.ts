/**
 * Training of the text-to-image GAN (lib/models/text2image.ts): GAN-INT-CLS (Reed et al. 2016)
 * on fresh MNIST-Captions-60 canvases every epoch (seen captions on the training digits only).
 * One step on a batch of m canvases x_i with captions t_i:
 *
 *  1. G draws g_i = G(z_i, e_G(t_i)) and, with interpolation (GAN-INT), m more images for the
 *     midpoints (e_G(t_i) + e_G(t_(i+1 mod m))) / 2 of neighbouring captions.
 *  2. D: the matching-aware loss (lib/models/text2image-loss.ts) on (x_i, t_i) real,
 *     (x_i, t'_i) fake for a seen caption t'_i that describes a different canvas (half of
 *     them near misses: mismatchedCaptions), and (g_i, t_i) fake; D's network and its caption
 *     encoder take one Adam step.
 *  3. G: the non-saturating loss on every generated image under its caption (the midpoint
 *     images under the midpoint of D's embeddings); G's network and caption encoder step.
 *
 * Every draw (canvases, noise, mismatched captions) is keyed by (seed, epoch or step), so a
 * run resumed from its checkpoint continues exactly.
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { philox4x32, type Seed, seedToKey, uniformF64 } from "../core/philox.js";
import { tokenizeAll } from "../data/caption-tokens.js";
import {
  allCaptions,
  CANVAS_DIM,
  type CanvasRecord,
  type Caption,
  captionSet,
  captionTarget,
  captionText,
  drawCanvas,
  sampleCanvasRecords,
  sameTarget,
} from "../data/mnist-captions.js";
import { captionDigits, EPOCH_CANVASES } from "../data/mnist-captions-split.js";
import { modelMetadata } from "../io/model-file.js";
import { writeSafetensors } from "../io/safetensors.js";
import { Adam } from "../nn/adam.js";
import { adamStates, CHECKPOINT_KEY, loadAdamStates, readPhasedCheckpoint } from "./checkpoint.js";
import { modelKernels } from "./common.js";
import { generatorLoss, matchingAwareLoss } from "./text2image-loss.js";
import type { TensorToWrite } from "../io/safetensors.js";
import type { ModelFile } from "../io/model-file.js";
import type { BackendName } from "../kernels/kernels.js";
import type { DcganDiscriminator, DcganGenerator } from "../nn/dcgan-nets.js";
import type { CaptionEncoder } from "../nn/caption-encoder.js";
import { type EpochRecord, FIT_FIELDS, type FitOptions, freshState, runTrainingLoop, type TrainingState } from "./trainer.js";

export interface TextToImageEpochRecord extends EpochRecord {
  terms: {
    discriminatorLoss: number;
    generatorLoss: number;
    /** Mean D(real, matching caption), D(real, mismatched caption) (NaN in the ablation) and D(generated). */
    dReal: number;
    dMismatched: number;
    dFake: number;
  };
  /** What an onEpoch hook measured (e.g. the judge's strict accuracy on validation captions). */
  validationScores?: Record<string, number>;
}

export interface TextToImageFitOptions extends FitOptions<TextToImageEpochRecord> {
  /** Fresh canvases per epoch (default 10,000). */
  canvasesPerEpoch?: number;
  /** Adam beta1 of both networks (default 0.5). */
  beta1?: number;
  /** Discriminator learning rate (default: lr). */
  discriminatorLr?: number;
  /** The matching-aware term (default true); false: plain conditional GAN loss (the ablation). */
  matchingAware?: boolean;
  /** GAN-INT interpolated captions in G's objective (default true). */
  interpolation?: boolean;
}

export interface TextToImageFitResult extends TrainingState {
  history: TextToImageEpochRecord[];
}

const FIT_KEYS = optionKeys<TextToImageFitOptions>({
  ...FIT_FIELDS,
  canvasesPerEpoch: true,
  beta1: true,
  discriminatorLr: true,
  matchingAware: true,
  interpolation: true,
});

/** What training needs of the model (lib/models/text2image.ts), which holds the trainer. */
export interface TextToImageUnderTraining {
  readonly kind: string;
  readonly config: { readonly tokens: number };
  readonly backend: BackendName | undefined;
  readonly zdim: number;
  readonly textDim: number;
  readonly latentDim: number;
  readonly generator: DcganGenerator;
  readonly discriminator: DcganDiscriminator;
  readonly genText: CaptionEncoder;
  readonly discText: CaptionEncoder;
  joinRows(z: Float32Array, e: Float32Array, n: number): Float32Array;
  tensors(): Record<string, TensorToWrite>;
  loadParams(file: ModelFile<unknown>): void;
}

const Z_STREAM_BASE = 0x7400_0000;
const MISMATCH_STREAM = 0x4d49_534d; // "MISM"
const SEEN = allCaptions().filter((c) => captionSet(c) === "seen");

/**
 * For each caption, a seen caption that describes a different canvas, keyed by (seed, step,
 * row): half of them any such caption, half a near miss of the same template (one digit
 * changed, or the two digits swapped). Random captions mostly differ in layout, which D
 * learns to check first; near misses make it check each digit and its slot too, which is
 * where the generator's gradient for drawing the named digits comes from.
 */
export function mismatchedCaptions(captions: readonly Caption[], seed: Seed, step: number): Caption[] {
  const { key0, key1 } = seedToKey(seed);
  const block = new Uint32Array(4);
  const pick = (word: number, k: number) => Math.min(k - 1, Math.floor(uniformF64(word) * k));
  return captions.map((c, i) => {
    const target = captionTarget(c);
    for (let attempt = 0; ; attempt++) {
      philox4x32(i, step, MISMATCH_STREAM, attempt, key0, key1, block);
      let other: Caption;
      if (block[0]! < 0x8000_0000) other = SEEN[pick(block[1]!, SEEN.length)]!;
      else if (c.b < 0) other = { ...c, a: pick(block[1]!, 10) };
      else {
        const how = pick(block[1]!, 3);
        other = how === 0 ? { ...c, a: c.b, b: c.a } : how === 1 ? { ...c, a: pick(block[2]!, 10) } : { ...c, b: pick(block[2]!, 10) };
      }
      if (captionSet(other) === "seen" && !sameTarget(captionTarget(other), target)) return other;
    }
  });
}

export async function fitText2Image(model: TextToImageUnderTraining, options?: TextToImageFitOptions): Promise<TextToImageFitResult> {
  const opts = checkOptions("TextToImage.fit", options, FIT_KEYS);
  const seed = opts.seed ?? 0;
  const n = checkInteger("canvasesPerEpoch", opts.canvasesPerEpoch ?? EPOCH_CANVASES, 2);
  const batchSize = checkInteger("batchSize", opts.batchSize ?? 64, 2);
  const epochs = checkInteger("epochs", opts.epochs ?? 25, 0);
  const lr = opts.lr ?? 2e-4;
  const beta1 = opts.beta1 ?? 0.5;
  const matchingAware = opts.matchingAware ?? true;
  const interpolation = opts.interpolation ?? true;
  const k = modelKernels(model.backend, opts.backend);
  const { generator, discriminator, genText, discText } = model;
  const genAdam = new Adam({ ...generator.params(), ...genText.params() }, { lr, beta1 });
  const discAdam = new Adam({ ...discriminator.params(), ...discText.params() }, { lr: opts.discriminatorLr ?? lr, beta1 });
  const genGrads = { ...generator.grads(), ...genText.grads() };
  const discGrads = { ...discriminator.grads(), ...discText.grads() };
  const adams = { gen: genAdam, disc: discAdam };
  const digits = captionDigits().train;
  const E = model.textDim;
  const zdim = model.zdim;
  const W = model.latentDim;
  let step = 0;
  let state = freshState();
  if (opts.resumeFrom !== undefined) {
    const { file, cp } = await readPhasedCheckpoint<unknown, { state: TrainingState; step: number; adamSteps: Record<string, number> }>(
      opts.resumeFrom,
      model.kind,
      model.config,
    );
    model.loadParams(file);
    loadAdamStates(file.tensors, adams, cp.adamSteps);
    state = cp.state;
    step = cp.step;
  }
  const sums = { dLoss: 0, gLoss: 0, dReal: 0, dMismatched: 0, dFake: 0, batches: 0 };
  const finishEpoch = (st: TrainingState): TextToImageEpochRecord => {
    const last = st.history[st.history.length - 1]!;
    if ("terms" in last) return last as TextToImageEpochRecord;
    const b = Math.max(1, sums.batches);
    const rec: TextToImageEpochRecord = {
      ...last,
      terms: {
        discriminatorLoss: sums.dLoss / b,
        generatorLoss: sums.gLoss / b,
        dReal: sums.dReal / b,
        dMismatched: matchingAware ? sums.dMismatched / b : Number.NaN,
        dFake: sums.dFake / b,
      },
    };
    st.history[st.history.length - 1] = rec;
    return rec;
  };
  const realRows = new Float32Array(batchSize * CANVAS_DIM);
  const both = new Float32Array(2 * batchSize * CANVAS_DIM);
  let epochRecords: { epoch: number; records: CanvasRecord[] } | undefined;
  generator.setTraining(true);
  discriminator.setTraining(true);
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
          Object.assign(sums, { dLoss: 0, gLoss: 0, dReal: 0, dMismatched: 0, dFake: 0, batches: 0 });
          generator.setTraining(false);
          try {
            await opts.onEpoch?.(rec, st);
          } finally {
            generator.setTraining(true);
          }
        },
      },
      {
        trainBatch: async (idx) => {
          const m = idx.length;
          if (m < 2) return 0; // a batch of one cannot be batch-normalized; skipped
          step++;
          const epoch = state.epoch + 1;
          if (epochRecords?.epoch !== epoch) epochRecords = { epoch, records: sampleCanvasRecords(digits, "seen", n, seed, epoch) };
          const records = Array.from(idx, (i) => epochRecords!.records[i]!);
          const captions = records.map((r) => r.caption);
          const ids = tokenizeAll(captions.map(captionText), model.config.tokens);
          const misIds = tokenizeAll(mismatchedCaptions(captions, seed, step).map(captionText), model.config.tokens);
          const real = realRows.subarray(0, m * CANVAS_DIM);
          for (let i = 0; i < m; i++) drawCanvas(digits, records[i]!, real, i * CANVAS_DIM);
          for (let i = 0; i < real.length; i++) real[i] = 2 * real[i]! - 1;

          // 1. generated images: m for the captions, m more for caption midpoints (GAN-INT)
          const r = interpolation ? 2 * m : m;
          const z = new Float32Array(r * zdim);
          k.philoxFill(z, seed, Z_STREAM_BASE + step, "normal");
          const eG = genText.forward(k, ids);
          const eRows = new Float32Array(r * E);
          eRows.set(eG);
          if (interpolation) midpoints(eG, m, E, eRows.subarray(m * E));
          const fake = generator.forward(k, model.joinRows(z, eRows, r), r);

          // 2. discriminator: [real; generated for the captions]
          const xb = both.subarray(0, 2 * m * CANVAS_DIM);
          xb.set(real);
          xb.set(fake.subarray(0, m * CANVAS_DIM), m * CANVAS_DIM);
          const out = discriminator.forward(k, xb, 2 * m);
          // one encoder pass over [captions; mismatched captions], so one backward serves both
          const idsBoth = new Int32Array(2 * ids.length);
          idsBoth.set(ids);
          idsBoth.set(misIds, ids.length);
          const eBoth = discText.forward(k, idsBoth);
          const d = matchingAwareLoss(out, eBoth.subarray(0, m * E), eBoth.subarray(m * E), m, E, matchingAware);
          discriminator.backward(k, d.dOut, 2 * m, false);
          const dBoth = new Float32Array(2 * m * E);
          dBoth.set(d.dMatch);
          dBoth.set(d.dMismatch, m * E);
          discText.backward(k, idsBoth, dBoth);
          discAdam.update(k, discGrads);

          // 3. generator: every generated image under its caption (midpoints under D's midpoints)
          const eD2 = discText.forward(k, ids);
          const eDRows = new Float32Array(r * E);
          eDRows.set(eD2);
          if (interpolation) midpoints(eD2, m, E, eDRows.subarray(m * E));
          const outG = discriminator.forward(k, fake, r);
          const g = generatorLoss(outG, eDRows, r, E);
          const dfake = discriminator.backward(k, g.dOut, r, true)!;
          const dlatent = generator.backward(k, dfake, r, true)!;
          genText.backward(k, ids, captionGradient(dlatent, m, r, zdim, W, E));
          genAdam.update(k, genGrads);

          sums.dLoss += d.loss;
          sums.gLoss += g.loss;
          sums.dReal += d.dReal;
          sums.dMismatched += matchingAware ? d.dMismatched : 0;
          sums.dFake += d.dFake;
          sums.batches++;
          return d.loss * m;
        },
        validate: async () => undefined,
        keepBest: () => undefined,
        restoreBest: () => undefined,
        checkpoint:
          opts.checkpointPath === undefined
            ? undefined
            : async (st) => {
                finishEpoch(st);
                const states = adamStates(adams);
                await writeSafetensors(
                  opts.checkpointPath!,
                  { ...model.tensors(), ...states.tensors },
                  modelMetadata(model.kind, model.config, {
                    [CHECKPOINT_KEY]: JSON.stringify({ state: st, step, adamSteps: states.steps }),
                  }),
                );
              },
      },
      state,
    );
    return { ...result, history: result.history as TextToImageEpochRecord[] };
  } finally {
    generator.setTraining(false);
    discriminator.setTraining(false);
  }
}

/** out row i = (e_i + e_(i+1 mod m)) / 2 for e [m, E]. */
function midpoints(e: Float32Array, m: number, E: number, out: Float32Array): void {
  for (let i = 0; i < m; i++) {
    const j = (i + 1) % m;
    for (let c = 0; c < E; c++) out[i * E + c] = 0.5 * (e[i * E + c]! + e[j * E + c]!);
  }
}

/**
 * The gradient with respect to the m caption embeddings e_G(t_i) from the generator's input
 * gradient [r, zdim + E]: row i's own, plus half of each midpoint row that used it.
 */
function captionGradient(dlatent: Float32Array, m: number, r: number, zdim: number, W: number, E: number): Float32Array {
  if (dlatent.length < r * W) throw new DeepgenError("E_SHAPE", "generator input gradient is too short");
  const de = new Float32Array(m * E);
  for (let i = 0; i < m; i++) for (let c = 0; c < E; c++) de[i * E + c] = dlatent[i * W + zdim + c]!;
  for (let i = m; i < r; i++) {
    const a = i - m;
    const b = (a + 1) % m;
    for (let c = 0; c < E; c++) {
      const g = 0.5 * dlatent[i * W + zdim + c]!;
      de[a * E + c] = de[a * E + c]! + g;
      de[b * E + c] = de[b * E + c]! + g;
    }
  }
  return de;
}
