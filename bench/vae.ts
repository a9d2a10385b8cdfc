/**
 * VAE benchmarks (latent 32, MLP 2x500, D = 784, the canonical split, batch 100): one ELBO
 * training epoch (forward, backward, Adam; timed on a few batches and extrapolated to the
 * 7,204 training images) and IWAE (k = 5000) evaluation throughput, native against the JS twin;
 * and the decoder likelihoods alone on one batch of 100 x 784 logits: the Bernoulli
 * cross-entropy and the continuous Bernoulli (grayscale decoder), forward + backward.
 */
import { getKernels } from "../lib/kernels/backend.js";
import { getThreads } from "../lib/kernels/threads.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { Vae } from "../lib/models/vae.js";
import { Adam } from "../lib/nn/adam.js";
import type { Report } from "./report.js";

const TRAIN_IMAGES = 7204; // canonical train split minus the 10% validation
const BATCH = 100;

export async function runVae(report: Report): Promise<void> {
  const { train, test } = canonicalSplit({ binarized: true });
  const threads = getThreads();
  for (const backend of ["native", "js"] as const) {
    const k = getKernels(backend);
    const model = Vae.create({ dim: 784, latent: 32, hidden: [500, 500], initSeed: 1 });
    const adam = new Adam(model.params(), { lr: 1e-3 });
    const grads = model.grads();
    const batches = backend === "js" ? 3 : 15;
    const step = (b: number): void => {
      const x = train.x.subarray(b * BATCH * 784, (b + 1) * BATCH * 784);
      model.lossAndGradients(k, x, BATCH, { seed: 1, stream: b });
      adam.update(k, grads);
    };
    step(0); // warm-up
    const t0 = performance.now();
    for (let b = 1; b <= batches; b++) step(b);
    const perBatch = (performance.now() - t0) / batches;
    report.add({
      suite: "vae",
      case: "elbo-epoch-L32-2x500",
      backend,
      value: (perBatch * Math.ceil(TRAIN_IMAGES / BATCH)) / 1000,
      unit: "s",
      note: `threads ${backend === "js" ? 1 : threads}; extrapolated from ${batches} batches of ${BATCH}`,
    });
    const kIwae = backend === "js" ? 500 : 5000;
    const images = backend === "js" ? 1 : 2;
    const t1 = performance.now();
    model.logLikelihoodSync(test.x.subarray(0, images * 784), { k: kIwae, backend });
    const s = (performance.now() - t1) / 1000;
    report.add({
      suite: "vae",
      case: "iwae-draws",
      backend,
      value: (images * kIwae) / s,
      unit: "draws/s",
      note: `k = ${kIwae}, ${images} images`,
    });
    report.add({ suite: "vae", case: "iwae-k5000", backend, value: (images * kIwae) / s / 5000, unit: "images/s" });
    // decoder likelihoods: forward + backward of one batch
    const logits = new Float32Array(BATCH * 784);
    k.philoxFill(logits, 3, 0, "normal");
    const gray = new Float32Array(BATCH * 784);
    k.philoxFill(gray, 4, 0, "uniform");
    const dl = new Float32Array(BATCH * 784);
    const reps = backend === "js" ? 20 : 200;
    for (const [name, cb] of [
      ["bce-fwd-bwd-100x784", false],
      ["cbernoulli-fwd-bwd-100x784", true],
    ] as const) {
      const t2 = performance.now();
      for (let r = 0; r < reps; r++) {
        if (cb) {
          k.continuousBernoulliNllForward(null, logits, gray, BATCH, 784);
          k.continuousBernoulliNllBackward(dl, logits, gray, BATCH, 784, 1 / BATCH);
        } else {
          k.bceWithLogitsForward(null, logits, gray, BATCH, 784);
          k.bceWithLogitsBackward(dl, logits, gray, BATCH, 784, 1 / BATCH);
        }
      }
      report.add({ suite: "vae", case: name, backend, value: (performance.now() - t2) / reps, unit: "ms" });
    }
  }
}
