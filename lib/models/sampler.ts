/**
 * What every loaded model shares (its family, configuration and card), and what every model
 * that draws images on its own shares: `load` returns a union of the model classes whose
 * samplers can all be called the same way, so callers branch on `kind`, not on classes.
 */
import type { ModelCard } from "./card.js";
import type { SampleOptions, Samples, SyncSampleOptions } from "./density.js";

export interface LoadedModel {
  /** The family, as the model file's deepgen.model names it ("nade", "gan", ...). */
  readonly kind: string;
  /** The architecture the file holds (the constructor's configuration). */
  readonly config: object;
  /** The model card beside the file (<stem>.card.json), when `load` found one; else null. */
  card: ModelCard | null;
}

/** A model that draws images unconditionally: sample(n, { seed }) gives n images of D pixels. */
export interface Sampler extends LoadedModel {
  /** Drawn off the event loop; honours `signal`. */
  sample(n: number, opts: SampleOptions): Promise<Samples>;
  /** The same draws on the calling thread. */
  sampleSync(n: number, opts: SyncSampleOptions): Samples;
}
