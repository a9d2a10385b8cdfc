/**
 * Training checkpoints: a model file that also holds the best parameters so far ("best."
 * prefix), the optimizer state ("adam." prefix) and the training state as JSON metadata
 * ("deepgen.checkpoint"), so a resumed run continues exactly where it stopped.
 */
import { DeepgenError } from "../core/errors.js";
import { loadModelFile, type ModelFile, modelMetadata, requireF32 } from "../io/model-file.js";
import { type SafeTensor, type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { Adam } from "../nn/adam.js";
import type { Net } from "../nn/conv-nets.js";
import type { TrainingState } from "./trainer.js";

export const CHECKPOINT_KEY = "deepgen.checkpoint";

export function checkpointMetadata(state: TrainingState, adamStep: number): Record<string, string> {
  return { [CHECKPOINT_KEY]: JSON.stringify({ state, adamStep }) };
}

/** The training state of a checkpoint file's metadata; E_FORMAT when absent or malformed. */
function readCheckpointState(metadata: Record<string, string>, source: string): { state: TrainingState; adamStep: number } {
  const raw = metadata[CHECKPOINT_KEY];
  if (raw === undefined) throw new DeepgenError("E_FORMAT", `${source}: not a training checkpoint (no ${CHECKPOINT_KEY} metadata)`);
  let cp: { state?: TrainingState; adamStep?: number };
  try {
    cp = JSON.parse(raw) as typeof cp;
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${source}: ${CHECKPOINT_KEY} is not valid JSON`, { cause: e });
  }
  const st = cp?.state;
  if (
    !Number.isInteger(cp?.adamStep) ||
    !Number.isInteger(st?.epoch) ||
    !Array.isArray(st?.history) ||
    !Number.isInteger(st?.bestEpoch) ||
    typeof st?.bestValidation !== "number"
  ) {
    throw new DeepgenError("E_FORMAT", `${source}: ${CHECKPOINT_KEY} lacks a valid training state`);
  }
  return { state: st as TrainingState, adamStep: cp.adamStep as number };
}

/** A checkpoint file of family `kind` (any, when undefined) and its training state; E_FORMAT when it is not one. */
export async function readCheckpointFile<C>(
  path: string,
  kind: string | undefined,
): Promise<{ file: ModelFile<C>; state: TrainingState; adamStep: number }> {
  const file = await loadModelFile<C>(path, kind);
  return { file, ...readCheckpointState(file.metadata, path) };
}

/** The parameters of nets, by name, as tensors to write. */
export function netTensors(nets: readonly Net[]): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const net of nets) {
    const shapes = net.shapes();
    for (const [name, data] of Object.entries(net.params())) out[name] = { shape: shapes[name]!, data };
  }
  return out;
}

/**
 * The checkpoint of a model with one optimizer and early stopping (VAE, classifier): the live
 * parameters of nets, the best ones so far ("best." + name), the Adam state and the training state.
 */
export async function writeBestCheckpoint(
  path: string,
  kind: string,
  config: unknown,
  nets: readonly Net[],
  adam: Adam,
  best: Record<string, Float32Array>,
  state: TrainingState,
): Promise<void> {
  const tensors = netTensors(nets);
  for (const [name, t] of Object.entries(netTensors(nets))) tensors[`best.${name}`] = { shape: t.shape, data: best[name]! };
  Object.assign(tensors, adam.stateTensors());
  await writeSafetensors(path, tensors, modelMetadata(kind, config, checkpointMetadata(state, adam.step)));
}

/**
 * Restores what writeBestCheckpoint wrote into nets, best and adam, and returns the training
 * state; E_FORMAT when the file is not such a checkpoint of `kind` with this configuration.
 */
export async function readBestCheckpoint(
  path: string,
  kind: string,
  config: unknown,
  nets: readonly Net[],
  adam: Adam,
  best: Record<string, Float32Array>,
): Promise<TrainingState> {
  const { file, ...cp } = await readCheckpointFile(path, kind);
  if (JSON.stringify(file.config) !== JSON.stringify(config)) {
    throw new DeepgenError(
      "E_FORMAT",
      `${path}: the checkpoint's configuration ${JSON.stringify(file.config)} differs from the model's ${JSON.stringify(config)}`,
    );
  }
  for (const net of nets) {
    const shapes = net.shapes();
    for (const [name, p] of Object.entries(net.params())) {
      p.set(requireF32(file, name, shapes[name]!));
      best[name]!.set(requireF32(file, `best.${name}`, shapes[name]!));
    }
  }
  adam.loadState(file.tensors, cp.adamStep);
  return cp.state;
}

/**
 * The Adam states of several optimizers, each under its own prefix (`<prefix>.adam.m.<name>`),
 * and their step counts: for models trained in phases (AAE, GAN).
 */
export function adamStates(adams: Record<string, Adam>): { tensors: Record<string, TensorToWrite>; steps: Record<string, number> } {
  const tensors: Record<string, TensorToWrite> = {};
  const steps: Record<string, number> = {};
  for (const [prefix, adam] of Object.entries(adams)) {
    for (const [name, t] of Object.entries(adam.stateTensors())) tensors[`${prefix}.${name}`] = t;
    steps[prefix] = adam.step;
  }
  return { tensors, steps };
}

/** Restores what adamStates saved (E_FORMAT when a state is missing or misshapen). */
export function loadAdamStates(tensors: ReadonlyMap<string, SafeTensor>, adams: Record<string, Adam>, steps: Record<string, number>): void {
  for (const [prefix, adam] of Object.entries(adams)) {
    const own = new Map<string, SafeTensor>();
    for (const [name, t] of tensors) if (name.startsWith(`${prefix}.adam.`)) own.set(name.slice(prefix.length + 1), t);
    adam.loadState(own, steps[prefix] ?? 0);
  }
}

/**
 * A phased model's checkpoint file and its parsed deepgen.checkpoint metadata; E_FORMAT when
 * the file is not a checkpoint of `kind` or was written for another configuration.
 */
export async function readPhasedCheckpoint<C, M extends { adamSteps: Record<string, number> }>(
  path: string,
  kind: string,
  config: C,
): Promise<{ file: ModelFile<C>; cp: M }> {
  const file = await loadModelFile<C>(path, kind);
  const raw = file.metadata[CHECKPOINT_KEY];
  if (raw === undefined) throw new DeepgenError("E_FORMAT", `${path}: not a training checkpoint (no ${CHECKPOINT_KEY} metadata)`);
  if (JSON.stringify(file.config) !== JSON.stringify(config)) {
    throw new DeepgenError(
      "E_FORMAT",
      `${path}: the checkpoint's configuration ${JSON.stringify(file.config)} differs from the model's ${JSON.stringify(config)}`,
    );
  }
  let cp: { state?: TrainingState; step?: unknown; adamSteps?: unknown };
  try {
    cp = JSON.parse(raw) as typeof cp;
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${path}: ${CHECKPOINT_KEY} is not valid JSON`, { cause: e });
  }
  const st = cp?.state;
  const steps = cp?.adamSteps;
  if (
    !Number.isInteger(cp?.step) ||
    typeof steps !== "object" ||
    steps === null ||
    !Object.values(steps).every((v) => Number.isInteger(v)) ||
    !Number.isInteger(st?.epoch) ||
    !Array.isArray(st?.history) ||
    !Number.isInteger(st?.bestEpoch) ||
    typeof st?.bestValidation !== "number"
  ) {
    throw new DeepgenError("E_FORMAT", `${path}: ${CHECKPOINT_KEY} lacks a valid training state, step or optimizer steps`);
  }
  return { file, cp: cp as unknown as M };
}
