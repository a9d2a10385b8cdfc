/**
 * GAN benchmarks: the reference DCGAN (z 100 -> 128x7x7 -> 64x14x14 -> 1x28x28, D 64, 128):
 * generator forward (evaluation mode) in images/s at batch 1 and 64, and one training step at
 * batch 64 (discriminator and generator updates), native against the JS twin, and the same
 * generator graph (exported by deepgen, lib/onnx) under onnxruntime-node with as many
 * intra-op threads as the native pool, in the same run. Also the shipped generator
 * (models/dcgan-mnist, channels 256,128) at batch 1 against its shipped ONNX file.
 */
import { fileURLToPath } from "node:url";

import { getKernels } from "../lib/kernels/backend.js";
import { getThreads } from "../lib/kernels/threads.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { onnxRuntimeAvailable } from "../lib/onnx/runtime.js";
import { Gan } from "../lib/models/gan.js";
import { type Report, timeMs, timeMsAsync } from "./report.js";

function dcgan(): Gan {
  return Gan.create({ arch: "dcgan", dim: 784, height: 28, width: 28, initSeed: 1 });
}

export async function runGan(report: Report): Promise<void> {
  const threads = getThreads();
  const gan = dcgan();
  for (const backend of ["native", "js"] as const) {
    getKernels(backend);
    for (const batch of [1, 64]) {
      const z = gan.sampleLatent(batch, 1);
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
      const z = gan.sampleLatent(batch, 1);
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
  // The shipped generator (channels 256,128) against its shipped ONNX export, batch 1.
  const shipped = await Gan.load(fileURLToPath(new URL("../models/dcgan-mnist.safetensors", import.meta.url)));
  const z1 = shipped.sampleLatent(1, 1);
  const ms1 = timeMs(() => shipped.generate(z1), 200);
  report.add({
    suite: "gan",
    case: "dcgan-mnist-generator-b1",
    backend: "native",
    value: 1000 / ms1,
    unit: "images/s",
    note: `${ms1.toFixed(2)} ms per batch; threads ${threads}`,
  });
  if (await onnxRuntimeAvailable()) {
    const file = fileURLToPath(new URL("../models/dcgan-mnist.onnx", import.meta.url));
    const ort = await OnnxModel.load(file, { threads, isolate: false });
    const ms = await timeMsAsync(() => ort.run({ z: { data: z1, dims: [1, shipped.zdim] } }), 200);
    report.add({
      suite: "gan",
      case: "dcgan-mnist-generator-b1",
      backend: "onnxruntime",
      value: 1000 / ms,
      unit: "images/s",
      note: `${ms.toFixed(2)} ms per batch; intra-op threads ${threads}`,
    });
    await ort.dispose();
    // What OnnxModel costs by default: the same session on its worker thread (message round trip, copies).
    const isolated = await OnnxModel.load(file, { threads });
    const msIsolated = await timeMsAsync(() => isolated.run({ z: { data: z1, dims: [1, shipped.zdim] } }), 200);
    report.add({
      suite: "gan",
      case: "dcgan-mnist-generator-b1",
      backend: "onnxruntime-worker",
      value: 1000 / msIsolated,
      unit: "images/s",
      note: `${msIsolated.toFixed(2)} ms per batch; session on a worker thread (OnnxModel's default)`,
    });
    await isolated.dispose();
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
