/**
 * Training checkpoints: a model file that also holds the best parameters so far ("best."
 * prefix), the optimizer state ("adam." prefix) and the training state as JSON metadata
 * ("deepgen.checkpoint"), so a resumed run continues exactly where it stopped.
 */
import { DeepgenError } from "../core/errors.js";
import type { TrainingState } from "./trainer.js";

export const CHECKPOINT_KEY = "deepgen.checkpoint";

export function checkpointMetadata(state: TrainingState, adamStep: number): Record<string, string> {
  return { [CHECKPOINT_KEY]: JSON.stringify({ state, adamStep }) };
}

/** The training state of a checkpoint file's metadata; E_FORMAT when absent or malformed. */
export function readCheckpointState(metadata: Record<string, string>, source: string): { state: TrainingState; adamStep: number } {
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
