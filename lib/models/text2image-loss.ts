/**
 * The losses of GAN-INT-CLS (Reed et al. 2016) with a projection discriminator (Miyato &
 * Koyama 2018) on caption embeddings. D's network maps an image to outputs o = [o_0, v]
 * (1 + E values); its logit for the image with a caption embedded as e is
 *
 *   l(x, e) = o_0 + v . e
 *
 * Matching-aware discriminator loss over m rows (real image x_i, its caption's embedding e_i,
 * a mismatched caption's embedding e'_i, a generated image g_i drawn for e_i):
 *
 *   L_D = (1/m) sum_i [ BCE(l(x_i, e_i), 1) + 1/2 BCE(l(x_i, e'_i), 0) + 1/2 BCE(l(g_i, e_i), 0) ]
 *
 * (real and matching: real; real and mismatched: fake; generated: fake). Without the
 * matching-aware term (the ablation) the mismatched term is dropped and the generated one
 * weighs 1. BCE(l, y) = softplus(l) - y l.
 */
import { softplus } from "../kernels/js/vmath.js";

export interface MatchingAwareGradients {
  /** L_D, the mean over rows. */
  loss: number;
  /** Gradient with respect to D's outputs [2m, 1 + E]: the m real rows, then the m generated rows. */
  dOut: Float32Array;
  /** Gradients with respect to the matching and the mismatched embeddings [m, E]. */
  dMatch: Float32Array;
  dMismatch: Float32Array;
  /** Mean D(real, matching), D(real, mismatched) and D(generated) (probabilities), for reports. */
  dReal: number;
  dMismatched: number;
  dFake: number;
}

function sigmoid(l: number): number {
  return 1 / (1 + Math.exp(-l));
}

/** l(row r of out, e row j of emb). */
export function projectionLogit(out: Float32Array, r: number, emb: Float32Array, j: number, E: number): number {
  const w = 1 + E;
  let l = out[r * w]!;
  for (let c = 0; c < E; c++) l += out[r * w + 1 + c]! * emb[j * E + c]!;
  return l;
}

/**
 * L_D and its gradients for D's outputs `out` [2m, 1 + E] (real rows then generated rows),
 * matching embeddings `match` [m, E] and mismatched ones `mismatch` [m, E].
 */
export function matchingAwareLoss(
  out: Float32Array,
  match: Float32Array,
  mismatch: Float32Array,
  m: number,
  E: number,
  matchingAware = true,
): MatchingAwareGradients {
  const w = 1 + E;
  const dOut = new Float32Array(2 * m * w);
  const dMatch = new Float32Array(m * E);
  const dMismatch = new Float32Array(m * E);
  const fakeWeight = matchingAware ? 0.5 : 1;
  let loss = 0;
  let dReal = 0;
  let dMismatched = 0;
  let dFake = 0;
  // Each term adds weight * (sigmoid(l) - y) / m into the outputs and the embedding of its pair.
  const term = (row: number, emb: Float32Array, dEmb: Float32Array, i: number, y: number, weight: number): number => {
    const l = projectionLogit(out, row, emb, i, E);
    const p = sigmoid(l);
    const g = (weight * (p - y)) / m;
    dOut[row * w] = dOut[row * w]! + g;
    for (let c = 0; c < E; c++) {
      dOut[row * w + 1 + c] = dOut[row * w + 1 + c]! + g * emb[i * E + c]!;
      dEmb[i * E + c] = dEmb[i * E + c]! + g * out[row * w + 1 + c]!;
    }
    loss += (weight * (softplus(l) - y * l)) / m;
    return p;
  };
  for (let i = 0; i < m; i++) {
    dReal += term(i, match, dMatch, i, 1, 1);
    if (matchingAware) dMismatched += term(i, mismatch, dMismatch, i, 0, 0.5);
    dFake += term(m + i, match, dMatch, i, 0, fakeWeight);
  }
  return { loss, dOut, dMatch, dMismatch, dReal: dReal / m, dMismatched: matchingAware ? dMismatched / m : Number.NaN, dFake: dFake / m };
}

/**
 * The generator's non-saturating loss (1/r) sum_i BCE(l(g_i, e_i), 1) = mean softplus(-l)
 * over r generated rows, and its gradients with respect to D's outputs [r, 1 + E] (toward the
 * image) and the embeddings [r, E] D read (unused by G's update, returned for tests).
 */
export function generatorLoss(
  out: Float32Array,
  emb: Float32Array,
  r: number,
  E: number,
): { loss: number; dOut: Float32Array; dEmb: Float32Array } {
  const w = 1 + E;
  const dOut = new Float32Array(r * w);
  const dEmb = new Float32Array(r * E);
  let loss = 0;
  for (let i = 0; i < r; i++) {
    const l = projectionLogit(out, i, emb, i, E);
    const g = (sigmoid(l) - 1) / r;
    loss += softplus(-l) / r;
    dOut[i * w] = g;
    for (let c = 0; c < E; c++) {
      dOut[i * w + 1 + c] = g * emb[i * E + c]!;
      dEmb[i * E + c] = g * out[i * w + 1 + c]!;
    }
  }
  return { loss, dOut, dEmb };
}
