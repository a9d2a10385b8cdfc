/**
 * CUDA benchmarks (`npm run bench -- cuda [--json]`), side by side in one run with the native
 * CPU kernels and, where python3 with a CUDA-enabled PyTorch is installed, PyTorch CUDA running
 * the same models (bench/peers/torch_cuda.py, same shapes):
 *   NADE (D 784, H 500; the shipped model when present): sampling images/s at batch 1, 100 and
 *   10,000 on a device-resident model (CudaNadeModel: weights uploaded once), and logProb on
 *   the 1,996 test images;
 *   DCGAN generator forward (eval mode) at batch 1, 64 and 1024 through backend 'cuda' (GEMM,
 *   bias, batch norm, activation and conv-block kernels; host copies between the layers);
 *   one DCGAN training step (D and G updates, MNIST shapes, the default networks) at batch 64
 *   on the device-resident trainer (CudaDcganTrainer: no host round trip between kernels),
 *   against Gan.fit on the native backend for one batch of 64.
 *   Row LSTM (the shipped rowlstm model when present, else 1 layer H 32, 28x28): cached
 *   sampling images/s at batch 1 and 256 on a device-resident model (CudaPixelRnnModel), against
 *   the native cached sampler, and log-likelihood of the 1,996 test images.
 * The PyTorch peer has no Row LSTM yet: those rows compare CUDA with the native CPU kernels only.
 * On a machine without a usable device the suite prints "no CUDA device" and the reason.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { getKernels } from "../lib/kernels/backend.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { cudaStatus } from "../lib/kernels/cuda.js";
import { CudaDcganTrainer } from "../lib/kernels/ops/dcgan.js";
import { CudaNadeModel } from "../lib/kernels/ops/nade.js";
import { CudaPixelRnnModel, type PixelRnnModelArrays } from "../lib/kernels/ops/pixelrnn.js";
import { Gan } from "../lib/models/gan.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { loadModel } from "../lib/models/registry.js";
import { type BenchRow, type Report, timeMs } from "./report.js";

async function nadeModel(): Promise<Nade> {
  try {
    return (await loadModel("nade")) as Nade;
  } catch {
    return Nade.create({ dim: 784, hidden: 500, initSeed: 1 });
  }
}

export async function runCuda(report: Report): Promise<void> {
  const status = cudaStatus();
  if (!status.available) {
    process.stderr.write(`no CUDA device: ${status.reason}\n`);
    return;
  }
  const add = (c: string, backend: BenchRow["backend"], value: number, unit: string, note?: string): void =>
    report.add({ suite: "cuda", case: c, backend, value, unit, ...(note === undefined ? {} : { note }) });
  const { test } = canonicalSplit({ binarized: true });
  const model = await nadeModel();
  const native = getKernels("native");
  const gpu = CudaNadeModel.upload(model.arrays);
  try {
    for (const batch of [1, 100, 10000]) {
      const x = new Float32Array(batch * 784);
      let seed = 0;
      const reps = batch === 1 ? 200 : batch === 100 ? 20 : 3;
      const ms = timeMs(() => gpu.sample({ n: batch, seed: seed++ }, x), reps, 2);
      add(`nade-sample-b${batch}`, "cuda", (batch / ms) * 1000, "images/s", `${ms.toFixed(3)} ms per batch`);
      const nms = timeMs(() => native.nadeSample(model.arrays, { n: batch, seed: seed++ }, x), batch === 10000 ? 1 : reps, 1);
      add(`nade-sample-b${batch}`, "native", (batch / nms) * 1000, "images/s", `${nms.toFixed(3)} ms per batch`);
    }
    const logp = new Float32Array(test.n);
    const lms = timeMs(() => gpu.logProb(test.x, test.n, logp), 10, 2);
    add("nade-logprob-test", "cuda", (test.n / lms) * 1000, "images/s");
    const nlms = timeMs(() => native.nadeLogProb(model.arrays, test.x, test.n, logp), 5, 1);
    add("nade-logprob-test", "native", (test.n / nlms) * 1000, "images/s");
  } finally {
    gpu.dispose();
  }

  await benchRowLstm(add, test);

  const gan = Gan.create({ arch: "dcgan", dim: 784, height: 28, width: 28, initSeed: 1 });
  for (const batch of [1, 64, 1024]) {
    const z = gan.sampleLatent(batch, { seed: 1 });
    for (const backend of ["cuda", "native"] as const) {
      try {
        const ms = timeMs(() => gan.generate(z, { backend }), batch === 1 ? 50 : 5, 1);
        add(`dcgan-generator-b${batch}`, backend, (batch / ms) * 1000, "images/s");
      } catch (e) {
        process.stderr.write(`  dcgan-generator-b${batch} [${backend}] not available: ${(e as Error).message}\n`);
      }
    }
  }
  await benchDcganStep(add);
  runTorchPeer(add);
}

/** One DCGAN training step at batch 64 (28x28, default networks): device-resident trainer vs native Gan.fit. */
async function benchDcganStep(add: AddRow): Promise<void> {
  const batch = 64;
  const gan = Gan.create({ arch: "dcgan", dim: 784, height: 28, width: 28, initSeed: 1 });
  const spec = {
    height: 28,
    width: 28,
    zdim: gan.zdim,
    channels: gan.config.channels!,
    discChannels: gan.config.discChannels!,
    discNorm: false,
  };
  const genBuffers = Object.fromEntries(Object.entries(gan.generator.buffers?.() ?? {}).map(([k, b]) => [k, b.data]));
  const real = new Float32Array(batch * 784).map((_, i) => Math.sin(i) * 0.9);
  const z = gan.sampleLatent(batch, { seed: 2 });
  try {
    const trainer = CudaDcganTrainer.upload(spec, { gen: gan.generator.params(), disc: gan.discriminator.params(), genBuffers });
    try {
      const ms = timeMs(() => trainer.step(real, z, batch, { genLr: 2e-4, discLr: 2e-4 }), 20, 3);
      add(`dcgan-train-step-b${batch}`, "cuda", (batch / ms) * 1000, "images/s", `${ms.toFixed(3)} ms per step`);
    } finally {
      trainer.dispose();
    }
  } catch (e) {
    process.stderr.write(`  dcgan-train-step-b${batch} [cuda] not available: ${(e as Error).message}\n`);
  }
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await gan.fit(real, { epochs: 1, batchSize: batch, backend: "native", seed: r });
    times.push(performance.now() - t0);
  }
  const nms = times.sort((a, b) => a - b)[1]!;
  add(`dcgan-train-step-b${batch}`, "native", (batch / nms) * 1000, "images/s", `${nms.toFixed(3)} ms per step (Gan.fit, one batch)`);
}

type AddRow = (c: string, backend: BenchRow["backend"], value: number, unit: string, note?: string) => void;

async function rowLstmModel(): Promise<PixelRnn> {
  try {
    return (await loadModel("rowlstm")) as PixelRnn;
  } catch {
    return PixelRnn.create({ kind: "rowlstm", layers: 1, hidden: 32, height: 28, width: 28, initSeed: 1 });
  }
}

/** Row LSTM cached sampling at batch 1 and 256 and test-set log-likelihood, CUDA and native. */
async function benchRowLstm(add: AddRow, test: { x: Float32Array; n: number }): Promise<void> {
  const model = await rowLstmModel();
  const m: PixelRnnModelArrays = { spec: model.spec, params: model.params };
  const tag = `L${model.config.layers}-h${model.config.hidden}`;
  const native = getKernels("native");
  const gpu = CudaPixelRnnModel.upload(m);
  try {
    for (const batch of [1, 256]) {
      const x = new Float32Array(batch * 784);
      let seed = 0;
      const ms = timeMs(() => gpu.sample({ n: batch, seed: seed++ }, x), batch === 1 ? 20 : 3, 1);
      add(`rowlstm-${tag}-sample-cached-b${batch}`, "cuda", (batch / ms) * 1000, "images/s", `${ms.toFixed(3)} ms per batch`);
      const nms = timeMs(() => native.pixelRnnSample(m, { n: batch, seed: seed++ }, x), batch === 1 ? 5 : 1, batch === 1 ? 1 : 0);
      add(`rowlstm-${tag}-sample-cached-b${batch}`, "native", (batch / nms) * 1000, "images/s", `${nms.toFixed(3)} ms per batch`);
    }
    const logp = new Float32Array(test.n);
    const lms = timeMs(() => gpu.logProb(test.x, test.n, logp), 3, 1);
    add(`rowlstm-${tag}-logprob-test`, "cuda", (test.n / lms) * 1000, "images/s");
    const nlms = timeMs(() => native.pixelRnnLogProb(m, test.x, test.n, logp), 1, 0);
    add(`rowlstm-${tag}-logprob-test`, "native", (test.n / nlms) * 1000, "images/s");
  } finally {
    gpu.dispose();
  }
}

/** PyTorch CUDA on the same shapes, when python3 and torch with CUDA are installed. */
function runTorchPeer(add: (c: string, backend: BenchRow["backend"], value: number, unit: string, note?: string) => void): void {
  const script = fileURLToPath(new URL("./peers/torch_cuda.py", import.meta.url));
  const r = spawnSync("python3", [script], { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) {
    process.stderr.write(`  PyTorch CUDA peer not run: ${(r.stderr || r.error?.message || "python3 failed").trim().split("\n").pop()}\n`);
    return;
  }
  for (const line of r.stdout.split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line) as { case: string; value: number; unit: string; note?: string };
    add(row.case, "torch-cuda", row.value, row.unit, row.note);
  }
}
