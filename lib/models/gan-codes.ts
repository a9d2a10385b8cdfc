/**
 * InfoGAN's categorical latent code (Chen et al. 2016). The generator's input is
 * [noise (zdim), one-hot code (K)], the code c ~ Uniform{0..K-1}; the discriminator's last
 * layer has 1 + K outputs: column 0 the real/fake logit, columns 1..K the logits of
 * Q(c | x), the code it reads back from an image. Both networks also minimize
 * weight * CE(Q(c | G(z, c)), c), a lower bound on the mutual information between the code and
 * the image (up to the constant H(c)); with MNIST's ten digits the code tends to take the
 * digit's class, so the generator stops drawing shapes between two digits.
 *
 * Latent rows: the noise is the Philox normal fill of [n, zdim] on `noiseStream` (the same
 * noise an uncoded model draws), code i is floor(K u_i) for u the uniform fill of [n] on
 * `codeStream`: row i depends only on (seed, i), never on n.
 */
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { Kernels } from "../kernels/kernels.js";

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

/**
 * Splits discriminator outputs [n, 1 + K] into the real/fake logits [n] and the code logits
 * [n, K] (contiguous, for the loss kernels).
 */
export function splitOutputs(out: Float32Array, n: number, K: number, realFake: Float32Array, code: Float32Array): void {
  const w = 1 + K;
  for (let i = 0; i < n; i++) {
    realFake[i] = out[i * w]!;
    for (let j = 0; j < K; j++) code[i * K + j] = out[i * w + 1 + j]!;
  }
}

/** The inverse of splitOutputs for gradients: d [n, 1 + K] from dRealFake [n] and dCode [n, K] (null: zeros). */
export function mergeOutputGrads(d: Float32Array, n: number, K: number, dRealFake: Float32Array, dCode: Float32Array | null): void {
  const w = 1 + K;
  for (let i = 0; i < n; i++) {
    d[i * w] = dRealFake[i]!;
    for (let j = 0; j < K; j++) d[i * w + 1 + j] = dCode === null ? 0 : dCode[i * K + j]!;
  }
}

/**
 * The code loss: mean over the n rows of CE(softmax(logits_i), codes_i) for logits [n, K],
 * and dlogits = scale (softmax - onehot) per row (scale includes the 1/n of the mean and the
 * loss weight). `onehot` is scratch of [n, K].
 */
export function codeLossBackward(
  k: Pick<Kernels, "softmaxCrossEntropyForward" | "softmaxCrossEntropyBackward">,
  dlogits: Float32Array,
  logits: Float32Array,
  codes: Int32Array,
  n: number,
  K: number,
  scale: number,
  onehot: Float32Array = new Float32Array(n * K),
): number {
  const t = onehot.subarray(0, n * K).fill(0);
  for (let i = 0; i < n; i++) t[i * K + codes[i]!] = 1;
  k.softmaxCrossEntropyBackward(dlogits.subarray(0, n * K), logits.subarray(0, n * K), t, n, K, scale);
  return k.softmaxCrossEntropyForward(null, logits.subarray(0, n * K), t, n, K) / n;
}

/**
 * Class-conditional GANs use the code as the class label y and a projection discriminator
 * (Miyato & Koyama 2018): with D's outputs o [n, 1 + K] linear in its features phi(x), the
 * logit of row i is o_i0 + o_i(1+y_i) = psi(phi) + v_y . phi (+ a class bias). Writes the
 * logits [n] for labels [n].
 */
export function projectLogits(out: Float32Array, n: number, K: number, labels: ArrayLike<number>, logits: Float32Array): void {
  const w = 1 + K;
  for (let i = 0; i < n; i++) logits[i] = out[i * w]! + out[i * w + 1 + labels[i]!]!;
}

/** The gradient of projectLogits: d [n, 1 + K] gets dlogits[i] in columns 0 and 1 + y_i, zeros elsewhere. */
export function projectGrads(d: Float32Array, n: number, K: number, labels: ArrayLike<number>, dlogits: Float32Array): void {
  const w = 1 + K;
  d.fill(0, 0, n * w);
  for (let i = 0; i < n; i++) {
    d[i * w] = dlogits[i]!;
    d[i * w + 1 + labels[i]!] = dlogits[i]!;
  }
}

/** Checks that `labels` holds n class labels in 0..K-1 (for a conditional model). */
export function checkLabels(what: string, labels: ArrayLike<number> | undefined, n: number, K: number): ArrayLike<number> {
  if (labels === undefined) throw new DeepgenError("E_ARG", `${what}: a conditional GAN needs the examples' class labels`);
  if (labels.length !== n) throw new DeepgenError("E_SHAPE", `${what}: ${labels.length} labels for ${n} examples`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < K)) throw new DeepgenError("E_ARG", `${what}: label ${y} (example ${i}) is not a class in 0..${K - 1}`);
  }
  return labels;
}
