/**
 * GAN benchmarks: the reference DCGAN (z 100 -> 128x7x7 -> 64x14x14 -> 1x28x28, D 64, 128):
 * generator forward (evaluation mode) in images/s at batch 1 and 64, and one training step at
 * batch 64 (discriminator and generator updates), native against the JS twin, and the same
 * generator graph (exported by deepgen, lib/onnx) under onnxruntime-node with as many
 * intra-op threads as the native pool, in the same run. Also the shipped generators
 * (dcgan-mnist of the models package, channels 256,128, and its class-conditional twin) at batch 1 and 64,
 * prepared native forward (sync and async) against their ONNX exports.
 */

import { getKernels } from "../lib/kernels/backend.js";
import { getThreads } from "../lib/kernels/threads.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { onnxRuntimeAvailable } from "../lib/onnx/runtime.js";
import { Gan } from "../lib/models/gan.js";
import { resolveModelPath } from "../lib/models/registry.js";
import { type BenchBackend, type Report, timeMs, timeMsAsync } from "./report.js";

/**
 * A shipped generator at batch 1 and 64: its prepared native forward, on this thread and as an
 * async job (what `sample` runs), against the same generator exported to ONNX under
 * onnxruntime, with its session on this thread and (batch 1) on OnnxModel's worker thread.
 */
async function shippedRows(report: Report, name: string, gan: Gan, threads: number): Promise<void> {
  const ort = (await onnxRuntimeAvailable()) ? await OnnxModel.load(exportOnnx(gan), { threads, isolate: false }) : undefined;
  const worker = ort !== undefined ? await OnnxModel.load(exportOnnx(gan), { threads }) : undefined;
  for (const batch of [1, 64]) {
    const z = gan.sampleLatent(batch, { seed: 1 });
    const reps = batch === 1 ? 300 : 30;
    const row = (backend: BenchBackend, ms: number, note: string): void =>
      report.add({
        suite: "gan",
        case: `${name}-generator-b${batch}`,
        backend,
        value: (batch * 1000) / ms,
        unit: "images/s",
        note: `${ms.toFixed(3)} ms per batch; ${note}`,
      });
    row(
      "native",
      timeMs(() => gan.generate(z), reps, 5),
      `threads ${threads}`,
    );
    row(
      "native-async",
      await timeMsAsync(() => gan.sample(batch, { seed: 1 }), reps, 5),
      `sample(): latent draws and an async job; threads ${threads}`,
    );
    if (ort === undefined || worker === undefined) continue;
    row(
      "onnxruntime",
      await timeMsAsync(() => ort.run({ z: { data: z, dims: [batch, gan.latentDim] } }), reps, 5),
      `intra-op threads ${threads}`,
    );
    if (batch === 1)
      row(
        "onnxruntime-worker",
        await timeMsAsync(() => worker.run({ z: { data: z, dims: [batch, gan.latentDim] } }), reps, 5),
        "session on a worker thread (OnnxModel's default)",
      );
  }
  await ort?.dispose();
  await worker?.dispose();
}

function dcgan(): Gan {
  return Gan.create({ arch: "dcgan", dim: 784, height: 28, width: 28, initSeed: 1 });
}

export async function runGan(report: Report): Promise<void> {
  const threads = getThreads();
  const gan = dcgan();
  for (const backend of ["native", "js"] as const) {
    getKernels(backend);
    for (const batch of [1, 64]) {
      const z = gan.sampleLatent(batch, { seed: 1 });
      const reps = backend === "js" ? (batch === 1 ? 5 : 2) : batch === 1 ? 200 : 20;
      const ms = timeMs(() => gan.generate(z, { backend }), reps);
      report.add({
        suite: "gan",
        case: `dcgan-generator-b${batch}`,
        backend,
        value: (batch * 1000) / ms,
        unit: "images/s",
        note: `${ms.toFixed(2)} ms per batch; threads ${backend === "js" ? 1 : threads}`,
      });
    }
  }
  if (await onnxRuntimeAvailable()) {
    // onnxruntime itself: its session on this thread (isolate: false), as native runs here too.
    const ort = await OnnxModel.load(exportOnnx(gan), { threads, isolate: false });
    for (const batch of [1, 64]) {
      const z = gan.sampleLatent(batch, { seed: 1 });
      const ms = await timeMsAsync(() => ort.run({ z: { data: z, dims: [batch, gan.zdim] } }), batch === 1 ? 200 : 20);
      report.add({
        suite: "gan",
        case: `dcgan-generator-b${batch}`,
        backend: "onnxruntime",
        value: (batch * 1000) / ms,
        unit: "images/s",
        note: `${ms.toFixed(2)} ms per batch; intra-op threads ${threads}`,
      });
    }
    await ort.dispose();
  }
  for (const [name, shortName] of [
    ["dcgan-mnist", "dcgan"],
    ["dcgan-mnist-conditional", "dcgan-conditional"],
  ] as const) {
    await shippedRows(report, name, await Gan.load(resolveModelPath(shortName)), threads);
  }
  const { train } = canonicalSplit();
  const steps = { native: 6, js: 1 };
  for (const backend of ["native", "js"] as const) {
    const model = dcgan();
    const x = train.x.subarray(0, 64 * steps[backend] * 784).map((v) => 2 * v - 1);
    if (backend === "native") await model.fit(x.subarray(0, 64 * 784), { epochs: 1, batchSize: 64, backend }); // warm-up (the JS step takes minutes: no warm-up needed)
    const t0 = performance.now();
    await model.fit(x, { epochs: 1, batchSize: 64, backend });
    const ms = (performance.now() - t0) / steps[backend];
    report.add({
      suite: "gan",
      case: "dcgan-train-step-b64",
      backend,
      value: ms,
      unit: "ms",
      note: `D and G updates; mean of ${steps[backend]} steps`,
    });
  }
}
