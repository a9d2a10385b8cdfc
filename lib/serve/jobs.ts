/**
 * The work a model's batcher runs: a batch of sample requests is one `sampleBatch` call (result
 * i is bit for bit request i's lone sample); logprob requests of a density model are one
 * `logProb` call over all their rows (rows are independent); a VAE's IWAE bound and completions
 * (NADE, PixelRNN) run request by request, since their noise is keyed by the row index within a call.
 */
import { DeepgenError, isDeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { SampleRequest } from "../models/batch.js";
import type { Samples } from "../models/density.js";
import { Nade } from "../models/nade.js";
import { PixelRnn } from "../models/pixelrnn.js";
import { Vae } from "../models/vae.js";
import type { BatchRunner } from "./batcher.js";
import type { ServableModel } from "./models.js";

export type Job =
  | { kind: "sample"; request: SampleRequest }
  | { kind: "logprob"; x: Float32Array; n: number }
  | { kind: "iwae"; x: Float32Array; n: number; k: number; seed: Seed }
  | { kind: "complete"; x: Float32Array; n: number; known: number; seed: Seed };

export type JobResult = Samples | Float32Array;

/** Whether the model answers logprob (an exact or bounded likelihood). */
export function hasLikelihood(model: ServableModel): boolean {
  return "logProb" in model && typeof model.logProb === "function";
}

/** Whether the model completes images from known top rows (PixelRNN; NADE with the natural ordering). */
export function canComplete(model: ServableModel): model is Nade | PixelRnn {
  return model instanceof PixelRnn || (model instanceof Nade && model.config.ordering === "natural");
}

/** A bad request's error stays its own; anything else (a backend failure) fails them all. */
function isInputError(e: unknown): boolean {
  return isDeepgenError(e, "E_ARG") || isDeepgenError(e, "E_SHAPE");
}

/** Runs each payload alone, each failure answering only its own request. */
async function eachAlone<P>(payloads: P[], run: (p: P) => Promise<JobResult>): Promise<(JobResult | Error)[]> {
  const out: (JobResult | Error)[] = [];
  for (const p of payloads) {
    try {
      out.push(await run(p));
    } catch (e) {
      if (isDeepgenError(e, "E_ABORTED") || !isInputError(e)) throw e;
      out.push(e as Error);
    }
  }
  return out;
}

/** The runner of every kind of job, for one model. */
export function jobRunners(model: ServableModel): Record<Job["kind"], BatchRunner<Job, JobResult>> {
  const sampleOne = (j: Job, signal: AbortSignal): Promise<Samples> => {
    if (j.kind !== "sample") throw new DeepgenError("E_ARG", "not a sample job");
    return model.sampleBatch([j.request], { signal }).then((r) => r[0]!);
  };
  return {
    sample: async (jobs, signal) => {
      const requests = jobs.map((j) => (j.kind === "sample" ? j.request : { n: 0, seed: 0 }));
      try {
        return await model.sampleBatch(requests, { signal });
      } catch (e) {
        // One request's bad value (a code out of range) must not fail the others: each alone.
        if (jobs.length === 1 || !isInputError(e)) throw e;
        return eachAlone(jobs, (j) => sampleOne(j, signal));
      }
    },
    logprob: async (jobs, signal) => {
      if (!hasLikelihood(model)) throw new DeepgenError("E_ARG", `a '${model.kind}' model has no likelihood`);
      const m = model as Extract<ServableModel, { logProb: unknown }>;
      const parts = jobs.map((j) => (j.kind === "logprob" ? j : { x: new Float32Array(0), n: 0 }));
      const total = parts.reduce((s, p) => s + p.n, 0);
      const x = new Float32Array(total * model.dim);
      let off = 0;
      for (const p of parts) {
        x.set(p.x, off);
        off += p.x.length;
      }
      try {
        const lp = await m.logProb(x, { signal });
        let row = 0;
        return parts.map((p) => {
          const out = lp.slice(row, row + p.n);
          row += p.n;
          return out;
        });
      } catch (e) {
        if (jobs.length === 1 || !isInputError(e)) throw e;
        return eachAlone(parts, (p) => m.logProb(p.x, { signal }));
      }
    },
    iwae: (jobs, signal) =>
      eachAlone(jobs, (j) => {
        if (j.kind !== "iwae" || !(model instanceof Vae)) throw new DeepgenError("E_ARG", "the IWAE bound needs a VAE");
        return model.logLikelihood(j.x, { k: j.k, seed: j.seed, signal });
      }),
    complete: (jobs, signal) =>
      eachAlone(jobs, (j) => {
        if (j.kind !== "complete" || !canComplete(model))
          throw new DeepgenError("E_ARG", "completion needs a PixelRNN or a NADE with the natural ordering");
        return model.complete(j.x, { known: j.known, seed: j.seed, signal });
      }),
  };
}
