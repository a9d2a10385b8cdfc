/**
 * The GAN generator's latent rows with a categorical code (InfoGAN's, Chen et al. 2016, or a
 * conditional model's class label): the generator's input is [noise (zdim), one-hot code (K)],
 * the code c ~ Uniform{0..K-1}. How the discriminator reads the code back is its head's
 * business (lib/models/gan-heads.ts); with MNIST's ten digits an InfoGAN code tends to take
 * the digit's class, so the generator stops drawing shapes between two digits.
 *
 * Latent rows: the noise is the Philox normal fill of [n, zdim] on `noiseStream` (the same
 * noise an uncoded model draws), code i is floor(K u_i) for u the uniform fill of [n] on
 * `codeStream`: row i depends only on (seed, i), never on n.
 */
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { Kernels } from "../kernels/kernels.js";

/**
 * Codes come from their noise stream plus this offset (above any step count the noise
 * streams reach), so a code never reuses the noise's Philox counters.
 */
export const CODE_STREAM_OFFSET = 0x40000000;

/** codes[i] = floor(K u_i), u the uniform Philox fill of [n] on (seed, stream). */
export function drawCodes(k: Pick<Kernels, "philoxFill">, n: number, K: number, seed: Seed, stream: number): Int32Array {
  const u = new Float32Array(n);
  k.philoxFill(u, seed, stream, "uniform");
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) c[i] = Math.min(K - 1, Math.floor(u[i]! * K));
  return c;
}

/**
 * Latent rows [n, zdim + K] into `out`: Philox normal noise (stream noiseStream) then one-hot
 * codes (drawn on codeStream unless given). Returns the codes (empty when K = 0).
 */
export function fillLatent(
  k: Pick<Kernels, "philoxFill">,
  out: Float32Array,
  n: number,
  zdim: number,
  K: number,
  seed: Seed,
  streams: { noise: number; code: number },
  given?: Int32Array,
): Int32Array {
  const width = zdim + K;
  if (out.length < n * width) throw new DeepgenError("E_SHAPE", `latent: ${out.length} values cannot hold ${n} x ${width}`);
  if (K === 0) {
    k.philoxFill(out.subarray(0, n * zdim), seed, streams.noise, "normal");
    return new Int32Array(0);
  }
  const noise = new Float32Array(n * zdim);
  k.philoxFill(noise, seed, streams.noise, "normal");
  const codes = given ?? drawCodes(k, n, K, seed, streams.code);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (!(Number.isInteger(c) && c >= 0 && c < K)) throw new DeepgenError("E_ARG", `latent: code ${c} is not in 0..${K - 1}`);
    const row = out.subarray(i * width, (i + 1) * width);
    row.set(noise.subarray(i * zdim, (i + 1) * zdim));
    row.fill(0, zdim);
    row[zdim + c] = 1;
  }
  return codes;
}
