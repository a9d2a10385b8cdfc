/**
 * The importance-weighted estimate of -log p(x | t) for the conditional VAE of captions
 * (lib/models/text-cvae.ts), Burda et al. (2016) with q(z | x, t) as the proposal:
 *
 *   L_k = log (1/k) sum_i p(x | z_i, t) p(z_i) / q(z_i | x, t),   z_i ~ q(z | x, t)
 *
 * over chunks of draws (memory bounded by `chunk` draws, whatever k), with a stable
 * log-sum-exp. Draw i of canvas r has sample index r * k + i of CVAE_IWAE_STREAM, so the
 * estimate does not depend on the chunking. The decoder is the caller's: the estimate yields
 * each chunk's decoder input rows and takes back their logits, so the model's sync and async
 * forms differ only in how they run it.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { CANVAS_DIM } from "../data/mnist-captions.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";

/** The Philox stream of the IWAE draws ("CVI0"). */
export const CVAE_IWAE_STREAM = 0x4356_4930;

/** Options of TextCvae.iwaeSync(). */
export interface TextCvaeIwaeOptions {
  /** Importance samples per canvas (1..100000; default 500; 1 gives a one-draw bound). */
  k?: number;
  /** Draws per decoder pass (memory bound; default 1000). */
  chunk?: number;
  seed?: Seed;
  backend?: BackendName;
  checkInput?: boolean;
}

export interface TextCvaeIwaeAsyncOptions extends TextCvaeIwaeOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface IwaeInputs {
  /** Binary canvases [n, 3600]. */
  x: Float32Array;
  /** Their caption embeddings [n, textDim]. */
  e: Float32Array;
  /** The encoder's outputs [n, 2 latent]: mu, then log variance. */
  h: Float32Array;
  n: number;
  latent: number;
  textDim: number;
}

/**
 * Yields each chunk's decoder input rows [z, e] [count, latent + textDim] with the fraction
 * done before it, takes back the decoder's logits [count, 3600]; returns the mean -L_k (nats).
 */
export function* iwaeDraws(
  k: Kernels,
  input: IwaeInputs,
  opts: { k?: number; chunk?: number; seed?: Seed },
): Generator<{ rows: Float32Array; count: number; done: number }, number, Float32Array> {
  const { x, e, h, n, latent: L, textDim: E } = input;
  const K = checkInteger("k", opts.k ?? 500, 1, 100000);
  const chunk = checkInteger("chunk", opts.chunk ?? 1000, 1, 1 << 20);
  if (n * K > 0x100000000) throw new DeepgenError("E_ARG", `n * k = ${n * K} draws exceed the 2^32 sample indices of one call`);
  const seed = opts.seed ?? 0;
  const D = CANVAS_DIM;
  const B = Math.min(chunk, K);
  const z = new Float32Array(B * L);
  const eps = new Float32Array(B * L);
  const rows = new Float32Array(B * (L + E));
  const xt = new Float32Array(B * D);
  const mut = new Float32Array(B * L);
  const lvt = new Float32Array(B * L);
  const zeros = new Float32Array(B * L);
  const bce = new Float32Array(B);
  const logPz = new Float32Array(B);
  const logQ = new Float32Array(B);
  const logw = new Float32Array(K);
  const lse = new Float32Array(1);
  const total = n * Math.ceil(K / B);
  let done = 0;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const mu = h.subarray(r * 2 * L, r * 2 * L + L);
    const lv = h.subarray(r * 2 * L + L, (r + 1) * 2 * L);
    const er = e.subarray(r * E, (r + 1) * E);
    // the per-draw kernels take rows: the canvas, its posterior and its caption, once per draw
    for (let i = 0; i < B; i++) {
      xt.set(x.subarray(r * D, (r + 1) * D), i * D);
      mut.set(mu, i * L);
      lvt.set(lv, i * L);
      rows.set(er, i * (L + E) + L);
    }
    for (let s0 = 0; s0 < K; s0 += B) {
      const b = Math.min(B, K - s0);
      const zb = z.subarray(0, b * L);
      k.reparamForward(zb, eps.subarray(0, b * L), mu, lv, {
        rows: 1,
        cols: L,
        k: b,
        seed,
        stream: CVAE_IWAE_STREAM,
        firstSample: r * K + s0,
      });
      for (let i = 0; i < b; i++) rows.set(zb.subarray(i * L, (i + 1) * L), i * (L + E));
      const logits = yield { rows: rows.subarray(0, b * (L + E)), count: b, done: done / total };
      k.bceWithLogitsForward(bce.subarray(0, b), logits, xt.subarray(0, b * D), b, D);
      k.gaussianLogProbForward(logPz.subarray(0, b), zb, zeros.subarray(0, b * L), zeros.subarray(0, b * L), b, L);
      k.gaussianLogProbForward(logQ.subarray(0, b), zb, mut.subarray(0, b * L), lvt.subarray(0, b * L), b, L);
      for (let i = 0; i < b; i++) logw[s0 + i] = -bce[i]! + logPz[i]! - logQ[i]!;
      done++;
    }
    k.logSumExpForward(lse, logw, 1, K);
    sum += Math.log(K) - lse[0]!;
  }
  return sum / Math.max(1, n);
}
