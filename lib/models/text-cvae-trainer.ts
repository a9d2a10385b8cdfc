/**
 * Training of the conditional VAE of captions (lib/models/text-cvae.ts) on the ELBO: Adam on
 * minibatches of fresh binarized MNIST-Captions-60 canvases every epoch (seen captions on the
 * training digits, the canvases of trainingCanvases(epoch, n, seed), drawn batch by batch so
 * that an epoch never holds all of them), one reparameterized draw per canvas (training step t
 * uses stream t of the reparam kernel), early stopping on the -ELBO of the fixed validation
 * canvases; the model keeps the best parameters. Checkpoints hold the parameters, the best
 * ones, the Adam state and the history, and resume exactly: every draw is keyed by (seed,
 * epoch or step).
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { tokenizeAll } from "../data/caption-tokens.js";
import { binarize, makeDataset } from "../data/dataset.js";
import { CANVAS_DIM, CANVAS_SIDE, type CanvasRecord, captionText, drawCanvas, sampleCanvasRecords } from "../data/mnist-captions.js";
import { captionDigits, EPOCH_CANVASES, VALIDATION_CANVASES, validationCanvases } from "../data/mnist-captions-split.js";
import { modelMetadata, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import { checkpointMetadata, readCheckpointFile } from "./checkpoint.js";
import { modelKernels } from "./common.js";
import { type EpochRecord, FIT_FIELDS, type FitOptions, freshState, runTrainingLoop, type TrainingState } from "./trainer.js";

/** The ELBO's terms, in nats per canvas (means over the canvases). */
export interface TextCvaeElbo {
  /** -E_q[log p(x | z, t)], the summed Bernoulli cross-entropy of the pixels (one draw per canvas). */
  reconstruction: number;
  /** KL(q(z | x, t) || N(0, I)), closed form. */
  kl: number;
  /** reconstruction + kl: the negative ELBO, an upper bound on -log p(x | t). */
  negElbo: number;
}

export interface TextCvaeEpochRecord extends EpochRecord {
  /** Training terms of the epoch (means over its batches, each before its parameter update). */
  terms: TextCvaeElbo;
  /** Validation terms after the epoch (validation = their negElbo). */
  validationTerms?: TextCvaeElbo;
}

/** Defaults: 100 epochs of 10,000 canvases, batches of 100, lr 1e-3, patience 10, 1,000 validation canvases. */
export interface TextCvaeFitOptions extends FitOptions<TextCvaeEpochRecord> {
  /** Fresh canvases per epoch. */
  canvasesPerEpoch?: number;
  /** The first this many of the fixed validation canvases (seen captions, validation digits) select the epoch. */
  validationCanvases?: number;
  /** Epochs without a validation improvement before stopping. */
  patience?: number;
}

export interface TextCvaeFitResult extends TrainingState {
  history: TextCvaeEpochRecord[];
}

/**
 * What training needs of the model: TextCvae (lib/models/text-cvae.ts) passes itself from its
 * fit. Spelt out here so that the model's file imports its trainer and not the other way round.
 */
export interface TextCvaeUnderTraining {
  readonly kind: string;
  readonly config: { readonly tokens: number };
  readonly backend: BackendName | undefined;
  params(): Record<string, Float32Array>;
  grads(): Record<string, Float32Array>;
  /** Every parameter by its file name (the names of params()). */
  tensors(): Record<string, TensorToWrite>;
  lossAndGradients(k: Kernels, x: Float32Array, ids: Int32Array, m: number, o: { seed: Seed; stream: number }): { rec: number; kl: number };
  elbo(x: Float32Array, captions: readonly string[], opts: { backend?: BackendName; seed?: Seed; checkInput?: boolean }): TextCvaeElbo;
}

const FIT_KEYS = optionKeys<TextCvaeFitOptions>({ ...FIT_FIELDS, canvasesPerEpoch: true, validationCanvases: true, patience: true });

/** The canonical binarization (pixel > 0.5 -> 1) of canvases [n, 3600], copied. */
export function binarizedCanvases(x: Float32Array): Float32Array {
  return binarize(makeDataset(x, undefined, CANVAS_SIDE, CANVAS_SIDE)).x;
}

export async function fitTextCvae(model: TextCvaeUnderTraining, options?: TextCvaeFitOptions): Promise<TextCvaeFitResult> {
  const opts = checkOptions("TextCvae.fit", options, FIT_KEYS);
  const seed = opts.seed ?? 0;
  const n = checkInteger("canvasesPerEpoch", opts.canvasesPerEpoch ?? EPOCH_CANVASES, 1);
  const nValid = checkInteger("validationCanvases", opts.validationCanvases ?? VALIDATION_CANVASES, 1, VALIDATION_CANVASES);
  const batchSize = checkInteger("batchSize", opts.batchSize ?? 100, 1);
  const epochs = checkInteger("epochs", opts.epochs ?? 100, 0);
  const k = modelKernels(model.backend, opts.backend);
  const params = model.params();
  const grads = model.grads();
  const adam = new Adam(params, { lr: opts.lr ?? 1e-3 });
  const best: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(params)) best[name] = p.slice();
  const valid = validationCanvases(nValid);
  const validX = binarizedCanvases(valid.x);
  const validCaptions = valid.records.map((r) => captionText(r.caption));
  const digits = captionDigits().train;
  let state = freshState();
  if (opts.resumeFrom !== undefined) state = await readCheckpoint(opts.resumeFrom, model, adam, best);
  const history = state.history as TextCvaeEpochRecord[];
  const sums = { rec: 0, kl: 0, seen: 0 };
  let lastValidTerms: TextCvaeElbo | undefined;
  // The loop records each epoch before the checkpoint and onEpoch hooks run; the first of them
  // to see it adds the ELBO terms (so checkpoints hold them too).
  const finishEpoch = (st: TrainingState): TextCvaeEpochRecord => {
    const last = st.history[st.history.length - 1]!;
    if ("terms" in last) return last as TextCvaeEpochRecord;
    const d = Math.max(1, sums.seen);
    const rec: TextCvaeEpochRecord = {
      ...last,
      terms: { reconstruction: sums.rec / d, kl: sums.kl / d, negElbo: (sums.rec + sums.kl) / d },
    };
    if (lastValidTerms !== undefined) rec.validationTerms = lastValidTerms;
    st.history[st.history.length - 1] = rec;
    return rec;
  };
  const batchX = new Float32Array(batchSize * CANVAS_DIM);
  let epochRecords: { epoch: number; records: CanvasRecord[] } | undefined;
  const result = await runTrainingLoop(
    {
      n,
      batchSize,
      epochs,
      seed,
      patience: checkPatience(opts.patience ?? 10),
      signal: opts.signal,
      onBatch: opts.onBatch,
      onEpoch: async (_r, st) => {
        const rec = finishEpoch(st);
        Object.assign(sums, { rec: 0, kl: 0, seen: 0 });
        await opts.onEpoch?.(rec, st);
      },
    },
    {
      trainBatch: async (idx) => {
        const m = idx.length;
        const epoch = state.epoch + 1;
        if (epochRecords?.epoch !== epoch) epochRecords = { epoch, records: sampleCanvasRecords(digits, "seen", n, seed, epoch) };
        const records = Array.from(idx, (i) => epochRecords!.records[i]!);
        const x = batchX.subarray(0, m * CANVAS_DIM);
        for (let i = 0; i < m; i++) drawCanvas(digits, records[i]!, x, i * CANVAS_DIM);
        for (let i = 0; i < x.length; i++) x[i] = x[i]! > 0.5 ? 1 : 0; // the canonical binarization, as binarizedCanvases
        const ids = tokenizeAll(
          records.map((r) => captionText(r.caption)),
          model.config.tokens,
        );
        const step = adam.step + 1;
        const t = model.lossAndGradients(k, x, ids, m, { seed, stream: step % 0x100000000 });
        adam.update(k, grads);
        sums.rec += t.rec;
        sums.kl += t.kl;
        sums.seen += m;
        return t.rec + t.kl;
      },
      validate: async () => {
        lastValidTerms = model.elbo(validX, validCaptions, { backend: k.backend, seed, checkInput: false });
        return lastValidTerms.negElbo;
      },
      keepBest: () => {
        for (const name of Object.keys(best)) best[name]!.set(params[name]!);
      },
      restoreBest: () => {
        for (const name of Object.keys(best)) params[name]!.set(best[name]!);
      },
      checkpoint:
        opts.checkpointPath === undefined
          ? undefined
          : (st) => {
              finishEpoch(st);
              return writeCheckpoint(opts.checkpointPath!, model, adam, best, st);
            },
    },
    state,
  );
  return { ...result, history };
}

function checkPatience(p: number): number {
  if (p !== Infinity) checkInteger("patience", p, 1);
  return p;
}

/** The live parameters, the best ones so far ("best." + name), the Adam state and the training state. */
async function writeCheckpoint(
  path: string,
  model: TextCvaeUnderTraining,
  adam: Adam,
  best: Record<string, Float32Array>,
  state: TrainingState,
): Promise<void> {
  const tensors = model.tensors();
  for (const [name, t] of Object.entries(model.tensors())) tensors[`best.${name}`] = { shape: t.shape, data: best[name]! };
  Object.assign(tensors, adam.stateTensors());
  await writeSafetensors(path, tensors, modelMetadata(model.kind, model.config, checkpointMetadata(state, adam.step)));
}

/** Restores what writeCheckpoint wrote; E_FORMAT when the file is not such a checkpoint of this configuration. */
async function readCheckpoint(
  path: string,
  model: TextCvaeUnderTraining,
  adam: Adam,
  best: Record<string, Float32Array>,
): Promise<TrainingState> {
  const { file, state, adamStep } = await readCheckpointFile(path, model.kind);
  if (JSON.stringify(file.config) !== JSON.stringify(model.config)) {
    throw new DeepgenError(
      "E_FORMAT",
      `${path}: the checkpoint's configuration ${JSON.stringify(file.config)} differs from the model's ${JSON.stringify(model.config)}`,
    );
  }
  for (const [name, t] of Object.entries(model.tensors())) {
    (t.data as Float32Array).set(requireF32(file, name, t.shape));
    best[name]!.set(requireF32(file, `best.${name}`, t.shape));
  }
  adam.loadState(file.tensors, adamStep);
  return state;
}
