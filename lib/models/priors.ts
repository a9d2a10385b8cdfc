/**
 * Priors p(z) of the latent-variable models, sampled from Philox (seed, stream) so draws are
 * reproducible on every backend. The adversarial autoencoder needs only samples, so priors
 * whose density KL cannot use in closed form work as well as the Gaussian:
 *   gaussian   N(0, I) in any dimension
 *   mog10      2-D: equal mixture of 10 Gaussians, centres on the circle of radius 4 at angles
 *              2 pi c / 10, standard deviation 0.5 (Makhzani et al. 2016 use such a mixture)
 *   swissroll  2-D: a spiral r = 4 theta / (3 pi), theta = 3 pi sqrt(u), u ~ U(0, 1) (about
 *              uniform along the arc), plus N(0, 0.1^2) noise
 *   uniform    the box [-2, 2]^latent
 * Draw i uses the Philox elements of rows i (normal and uniform fills of [n, latent + 1]).
 */
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { getKernels } from "../kernels/backend.js";

export const PRIORS = ["gaussian", "mog10", "swissroll", "uniform"] as const;
export type PriorKind = (typeof PRIORS)[number];

export const MOG10_RADIUS = 4;
export const MOG10_STD = 0.5;

/** Throws E_ARG when the prior does not exist in `latent` dimensions. */
export function checkPrior(prior: PriorKind, latent: number): void {
  if ((prior === "mog10" || prior === "swissroll") && latent !== 2) {
    throw new DeepgenError("E_ARG", `the ${prior} prior is 2-D: it needs --latent 2, got ${latent}`);
  }
}

/** n draws [n, latent] from the prior. */
export function samplePrior(
  prior: PriorKind,
  n: number,
  latent: number,
  seed: Seed,
  stream: number,
  out = new Float32Array(n * latent),
): Float32Array {
  checkPrior(prior, latent);
  const js = getKernels("js");
  const w = latent + 1;
  const normal = new Float32Array(n * w);
  js.philoxFill(normal, seed, stream, "normal");
  if (prior === "gaussian") {
    for (let i = 0; i < n; i++) for (let j = 0; j < latent; j++) out[i * latent + j] = normal[i * w + j]!;
    return out;
  }
  const uniform = new Float32Array(n * w);
  js.philoxFill(uniform, seed, (stream + 0x9e3779b9) >>> 0, "uniform");
  for (let i = 0; i < n; i++) {
    if (prior === "uniform") {
      for (let j = 0; j < latent; j++) out[i * latent + j] = -2 + 4 * uniform[i * w + j]!;
    } else if (prior === "mog10") {
      const c = Math.min(9, Math.floor(uniform[i * w]! * 10));
      const a = (2 * Math.PI * c) / 10;
      out[i * 2] = MOG10_RADIUS * Math.cos(a) + MOG10_STD * normal[i * w]!;
      out[i * 2 + 1] = MOG10_RADIUS * Math.sin(a) + MOG10_STD * normal[i * w + 1]!;
    } else {
      const theta = 3 * Math.PI * Math.sqrt(uniform[i * w]!);
      const r = (4 * theta) / (3 * Math.PI);
      out[i * 2] = r * Math.cos(theta) + 0.1 * normal[i * w]!;
      out[i * 2 + 1] = r * Math.sin(theta) + 0.1 * normal[i * w + 1]!;
    }
  }
  return out;
}
