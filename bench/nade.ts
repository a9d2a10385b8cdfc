/**
 * NADE benchmarks (H = 500, D = 784, the canonical split): logProb throughput on the 1,996
 * test images, sampling throughput at batch 1 and 100, and one training epoch, for the
 * native kernels and the JS twin (the JS epoch is timed on 10 batches and extrapolated).
 */
import { getThreads, setThreads } from "../lib/kernels/threads.js";
import { gatherRows } from "../lib/data/batching.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { getKernels } from "../lib/kernels/backend.js";
import { Nade } from "../lib/models/nade.js";
import { loadModel } from "../lib/models/registry.js";
import { type Report, timeMs } from "./report.js";

async function benchModel(): Promise<Nade> {
  try {
    return (await loadModel("nade")) as Nade; // the shipped model: realistic activations
  } catch {
    return Nade.create({ dim: 784, hidden: 500, initSeed: 1 });
  }
}

export async function runNade(report: Report): Promise<void> {
  const { train, test } = canonicalSplit({ binarized: true });
  const model = await benchModel();
  const threads = getThreads();
  const add = (c: string, backend: "native" | "js", value: number, unit: string): void =>
    report.add({ suite: "nade", case: c, backend, value, unit });
  for (const backend of ["native", "js"] as const) {
    const k = getKernels(backend);
    const logp = new Float32Array(test.n);
    const nTest = backend === "js" ? 200 : test.n; // the JS twin on a slice, reported per image
    const ms = timeMs(() => k.nadeLogProb(model.arrays, test.x, nTest, logp), backend === "js" ? 1 : 5, 1);
    add(`logprob-test-t${backend === "js" ? 1 : threads}`, backend, (nTest / ms) * 1000, "images/s");
    for (const batch of [1, 100]) {
      const x = new Float32Array(batch * 784);
      let seed = 0;
      const reps = backend === "js" ? 1 : batch === 1 ? 200 : 5;
      const sms = timeMs(() => k.nadeSample(model.arrays, { n: batch, seed: seed++ }, x), reps, 2);
      add(`sample-b${batch}`, backend, (batch / sms) * 1000, "images/s");
      if (batch === 1) add("sample-b1-latency", backend, sms, "ms");
    }
    // One epoch at batch 100 (gradient kernel + Adam), as the trainer runs it.
    const batchSize = 100;
    const batches = backend === "js" ? 10 : Math.ceil(train.n / batchSize);
    const xb = new Float32Array(batchSize * 784);
    const g = { dwt: new Float32Array(784 * 500), dc: new Float32Array(500), dv: new Float32Array(784 * 500), db: new Float32Array(784) };
    const lp = new Float32Array(batchSize);
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      const idx = Uint32Array.from({ length: batchSize }, (_, i) => (b * batchSize + i) % train.n);
      gatherRows(train, idx, xb);
      k.nadeBackward(model.arrays, xb, batchSize, 1 / batchSize, lp, g);
    }
    const seconds = ((performance.now() - t0) / 1000) * (Math.ceil(train.n / batchSize) / batches);
    add(`train-epoch-b100-t${backend === "js" ? 1 : threads}`, backend, seconds, "s");
  }
  // Same seed on both paths: the share of images drawn identically (a draw can flip only when
  // the uniform lands within float rounding of its probability).
  const nSame = 500;
  const a = new Float32Array(nSame * 784);
  const b = new Float32Array(nSame * 784);
  getKernels("native").nadeSample(model.arrays, { n: nSame, seed: 2024 }, a);
  getKernels("js").nadeSample(model.arrays, { n: nSame, seed: 2024 }, b);
  let identical = 0;
  for (let i = 0; i < nSame; i++) {
    let same = true;
    for (let j = 0; j < 784 && same; j++) same = a[i * 784 + j] === b[i * 784 + j];
    if (same) identical++;
  }
  report.add({
    suite: "nade",
    case: `same-seed-identical-of-${nSame}`,
    backend: "native",
    value: (100 * identical) / nSame,
    unit: "%",
    note: `${nSame - identical} images differ`,
  });
  if (threads > 1) {
    setThreads(1);
    const logp = new Float32Array(test.n);
    const ms = timeMs(() => getKernels("native").nadeLogProb(model.arrays, test.x, test.n, logp), 3, 1);
    add("logprob-test-t1", "native", (test.n / ms) * 1000, "images/s");
    setThreads(threads);
  }
}
