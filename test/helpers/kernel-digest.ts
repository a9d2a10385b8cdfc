/**
 * Prints the SHA-256 of native kernel outputs (gemm over training-like shapes and every
 * transpose; NADE log-likelihoods, gradients and samples; the DCGAN-shaped convolutions and
 * transposed convolutions), so that a test can compare kernel
 * paths chosen by environment (DEEPGEN_NO_AVX512) bit for bit.
 */
import { createHash } from "node:crypto";

import { getKernels } from "../../lib/kernels/backend.js";
import { randomNormal, randomUniform } from "./numeric.js";

export function kernelDigest(): string {
  const native = getKernels("native");
  const hash = createHash("sha256");
  const add = (a: Float32Array): void => {
    hash.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  };
  let seed = 100;
  for (const [m, n, k] of [
    [100, 500, 784],
    [7, 96, 50],
    [64, 200, 1030],
    [13, 33, 9],
  ] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = randomNormal(m * k, seed++);
        const b = randomNormal(k * n, seed++);
        const c = randomNormal(m * n, seed++);
        native.gemm({ a, b, c, m, n, k, transA, transB, alpha: 0.5, beta: 1.25 });
        add(c);
      }
    }
  }
  const d = 60;
  const h = 37;
  const batch = 21;
  const order = new Int32Array(d).map((_, i) => (i * 7) % d);
  const model = {
    d,
    h,
    wt: randomNormal(d * h, seed++, 0.5),
    c: randomNormal(h, seed++, 0.5),
    v: randomNormal(d * h, seed++, 0.5),
    b: randomNormal(d, seed++, 0.5),
    order,
  };
  const x = randomUniform(batch * d, seed++, 0, 1).map((u) => (u < 0.4 ? 1 : 0));
  const logp = new Float32Array(batch);
  native.nadeLogProb(model, x, batch, logp);
  add(logp);
  const g = { dwt: new Float32Array(d * h), dc: new Float32Array(h), dv: new Float32Array(d * h), db: new Float32Array(d) };
  native.nadeBackward(model, x, batch, 0.1, logp, g);
  for (const a of [logp, g.dwt, g.dc, g.dv, g.db]) add(a);
  const samples = new Float32Array(batch * d);
  native.nadeSample(model, { n: batch, seed: 5 }, samples);
  add(samples);
  // D's 64 -> 128 and G's 128 -> 64 layers (4x4, stride 2, pad 1) at batch 3: wide enough for
  // the direct tiles, and an odd channel count for the last, unpaired block.
  const k4s2 = { kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 };
  for (const outChannels of [128, 80]) {
    const y = new Float32Array(3 * outChannels * 7 * 7);
    const conv = { batch: 3, inChannels: 64, height: 14, width: 14, outChannels, ...k4s2 };
    const w = randomNormal(outChannels * 64 * 16, seed++);
    native.conv2dForward(conv, randomNormal(3 * 64 * 14 * 14, seed++), w, randomNormal(outChannels, seed++), y);
    add(y);
    const yT = new Float32Array(3 * outChannels * 14 * 14);
    const convT = { batch: 3, inChannels: 128, height: 7, width: 7, outChannels, ...k4s2 };
    const wT = randomNormal(128 * outChannels * 16, seed++);
    native.convTranspose2dForward(convT, randomNormal(3 * 128 * 49, seed++), wT, null, yT);
    add(yT);
  }
  return hash.digest("hex");
}

if (process.argv[1]?.endsWith("kernel-digest.ts")) process.stdout.write(`${kernelDigest()}\n`);
