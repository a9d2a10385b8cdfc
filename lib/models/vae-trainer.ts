/**
 * Training of a Vae (lib/models/vae.ts) on the ELBO: Adam on minibatches, one reparameterized
 * draw per image (training step t uses stream t of the reparam kernel), an optional KL
 * warm-up and free bits, early stopping on the validation -ELBO; the model keeps the best
 * parameters. Checkpoints hold the parameters, the best ones, the Adam state and the history,
 * and resume exactly.
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { gatherRows } from "../data/batching.js";
import { type Dataset, makeDataset } from "../data/dataset.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import type { Net } from "../nn/conv-nets.js";
import { readBestCheckpoint, writeBestCheckpoint } from "./checkpoint.js";
import { type InputDomain, modelKernels } from "./common.js";
import type { ModelCallOptions } from "./density.js";
import {
  type EpochRecord,
  freshState,
  runTrainingLoop,
  trainValidationSplit,
  type TrainingState,
  VALIDATED_FIT_FIELDS,
  type ValidatedFitOptions,
} from "./trainer.js";

/** The ELBO's terms, in nats per image (means over the images). */
export interface ElboTerms {
  /** E_q[log p(x | z)] (one draw per image). */
  reconstruction: number;
  /** KL(q(z | x) || p(z)), closed form. */
  kl: number;
  /** reconstruction - kl. */
  elbo: number;
}

export interface VaeEpochRecord extends EpochRecord {
  /** Training terms of the epoch (means over its batches, before the parameter updates). */
  terms: ElboTerms;
  /** Validation terms after the epoch (validation = -elbo). */
  validationTerms?: ElboTerms;
  /** KL weight at the end of the epoch (warm-up). */
  beta: number;
}

/** Defaults: 100 epochs, batches of 100, lr 1e-3, patience 10; checkpoints hold the parameters, the best ones and the Adam state. */
export interface VaeFitOptions extends ModelCallOptions, ValidatedFitOptions<VaeEpochRecord> {
  clipNorm?: number;
  /** KL warm-up: the KL weight rises linearly from 0 to 1 over this many epochs (default 0: off). */
  warmupEpochs?: number;
  /**
   * Free bits (Kingma et al. 2016) in nats per latent dimension: the objective uses
   * sum_j max(freeBits, KL_j) with KL_j the batch mean of dimension j's KL, so dimensions
   * under the floor get no KL gradient. Default 0 (off). Reported KL terms are the true KL.
   */
  freeBits?: number;
}

export interface VaeFitResult extends TrainingState {
  trainSize: number;
  validationSize: number;
  history: VaeEpochRecord[];
}

/**
 * What training needs of the model: Vae (lib/models/vae.ts) passes itself from its fit.
 * Spelt out here so that the model's file imports its trainer and not the other way round.
 */
export interface VaeUnderTraining {
  readonly kind: string;
  readonly config: unknown;
  readonly backend: BackendName | undefined;
  readonly dim: number;
  readonly encoder: Net;
  readonly decoder: Net;
  params(): Record<string, Float32Array>;
  grads(): Record<string, Float32Array>;
  lossAndGradients(
    k: Kernels,
    x: Float32Array,
    m: number,
    o: { seed: Seed; stream: number; beta?: number; freeBits?: number },
  ): { rec: number; kl: number; loss: number };
  elbo(x: Float32Array, opts: { backend?: BackendName; seed?: Seed; checkInput?: boolean }): ElboTerms;
  readonly inputDomain: InputDomain;
}

const FIT_KEYS = optionKeys<VaeFitOptions>({
  ...VALIDATED_FIT_FIELDS,
  onProgress: true,
  clipNorm: true,
  warmupEpochs: true,
  freeBits: true,
});

export async function fitVae(model: VaeUnderTraining, train: Float32Array | Dataset, options?: VaeFitOptions): Promise<VaeFitResult> {
  const opts = checkOptions("Vae.fit", options, FIT_KEYS);
  const seed = opts.seed ?? 0;
  const { trainX, validX, n } = trainValidationSplit(train, model.dim, opts.validation ?? 0.1, seed, {
    domain: model.inputDomain,
    checkInput: opts.checkInput,
  });
  const batchSize = checkInteger("batchSize", opts.batchSize ?? 100, 1);
  const epochs = checkInteger("epochs", opts.epochs ?? 100, 0);
  const warmup = opts.warmupEpochs ?? 0;
  const freeBits = opts.freeBits ?? 0;
  if (!(warmup >= 0) || !Number.isFinite(warmup)) throw new DeepgenError("E_ARG", `warmupEpochs must be >= 0, got ${warmup}`);
  if (!(freeBits >= 0) || !Number.isFinite(freeBits)) throw new DeepgenError("E_ARG", `freeBits must be >= 0, got ${freeBits}`);
  const kernels = modelKernels(model.backend, opts.backend);
  const params = model.params();
  const grads = model.grads();
  const adam = new Adam(params, { lr: opts.lr ?? 1e-3, clipNorm: opts.clipNorm ?? Infinity });
  const best: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(params)) best[name] = p.slice();
  const batchX = new Float32Array(batchSize * model.dim);
  const trainSet = makeDataset(trainX, undefined, 1, model.dim);
  const batchesPerEpoch = Math.ceil(n / batchSize);
  let epochRec = 0;
  let epochKl = 0;
  let epochSeen = 0;
  let beta = 1;
  let state = freshState();
  if (opts.resumeFrom !== undefined)
    state = await readBestCheckpoint(opts.resumeFrom, "vae", model.config, [model.encoder, model.decoder], adam, best);
  const history = state.history as VaeEpochRecord[];
  let lastValidTerms: ElboTerms | undefined;
  // The loop records each epoch before the checkpoint and onEpoch hooks run; the first of
  // them to see it adds the ELBO terms (so checkpoints hold them too).
  const finishEpoch = (state: TrainingState): VaeEpochRecord => {
    const last = state.history[state.history.length - 1]!;
    if ("terms" in last) return last as VaeEpochRecord;
    const d = Math.max(1, epochSeen);
    const rec: VaeEpochRecord = {
      ...last,
      terms: { reconstruction: -epochRec / d, kl: epochKl / d, elbo: -(epochRec + epochKl) / d },
      beta,
    };
    if (lastValidTerms !== undefined) rec.validationTerms = lastValidTerms;
    state.history[state.history.length - 1] = rec; // (the same array as `history`)
    return rec;
  };
  const result = await runTrainingLoop(
    {
      n,
      batchSize,
      epochs,
      seed,
      patience: opts.patience ?? 10,
      signal: opts.signal,
      onBatch: opts.onBatch,
      onEpoch: async (_r, state) => {
        const rec = finishEpoch(state);
        epochRec = 0;
        epochKl = 0;
        epochSeen = 0;
        await opts.onEpoch?.(rec, state);
      },
    },
    {
      trainBatch: async (indices) => {
        const m = indices.length;
        gatherRows(trainSet, indices, batchX);
        const step = adam.step + 1;
        beta = warmup > 0 ? Math.min(1, step / (warmup * batchesPerEpoch)) : 1;
        const t = model.lossAndGradients(kernels, batchX.subarray(0, m * model.dim), m, {
          seed,
          stream: step % 0x100000000,
          beta,
          freeBits,
        });
        adam.update(kernels, grads);
        epochRec += t.rec;
        epochKl += t.kl;
        epochSeen += m;
        return t.rec + t.kl; // the true -ELBO, whatever the warm-up weight
      },
      validate: async () => {
        lastValidTerms = model.elbo(validX, { backend: kernels.backend, seed, checkInput: false });
        return -lastValidTerms.elbo;
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
              return writeBestCheckpoint(opts.checkpointPath!, model.kind, model.config, [model.encoder, model.decoder], adam, best, st);
            },
    },
    state,
  );
  return { ...result, history, trainSize: n, validationSize: validX.length / model.dim };
}
