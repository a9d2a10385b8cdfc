/**
 * The same models through native, JS and onnxruntime-node, one run, batch 1 and 64:
 *   vae-decoder       the shipped VAE's decoder (z 32 -> 2x500 -> 784, sigmoid): Vae.decode vs
 *                     the exported graph (the models package's vae-mnist.onnx) through OnnxModel.run (session on this thread)
 *   conv-decoder      a conv VAE decoder of the DCGAN generator's shapes (z 32 -> 64x7x7 ->
 *                     convT 32x14x14 -> convT 1x28x28), random weights
 *   nade-logp         the shipped NADE's exact log-likelihood (one fused kernel call) vs the
 *                     exported CumSum graph
 * onnxruntime runs with as many intra-op threads as the native pool (getThreads()).
 */
import { getThreads } from "../lib/kernels/threads.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxModel } from "../lib/onnx/model.js";
import type { Nade } from "../lib/models/nade.js";
import { loadModel } from "../lib/models/registry.js";
import { Vae } from "../lib/models/vae.js";
import { randomNormal } from "../test/helpers/numeric.js";
import { type Report, timeMs, timeMsAsync } from "./report.js";

async function decoderRows(report: Report, name: string, vae: Vae, threads: number): Promise<void> {
  const ort = await OnnxModel.load(exportOnnx(vae), { threads, isolate: false });
  for (const batch of [1, 64]) {
    const z = randomNormal(batch * vae.latent, batch);
    const reps = batch === 1 ? 200 : 20;
    const c = `${name}-b${batch}`;
    for (const backend of ["native", "js"] as const) {
      const ms = timeMs(() => vae.decode(z, { backend }), backend === "js" && batch > 1 ? 5 : reps, 2);
      report.add({ suite: "onnx", case: c, backend, value: ms, unit: "ms", note: `threads ${backend === "js" ? 1 : threads}` });
    }
    const ms = await timeMsAsync(() => ort.run({ z: { data: z, dims: [batch, vae.latent] } }), reps, 2);
    report.add({ suite: "onnx", case: c, backend: "onnxruntime", value: ms, unit: "ms", note: `intra-op threads ${threads}` });
  }
  await ort.dispose();
}

export async function runOnnx(report: Report): Promise<void> {
  const threads = getThreads();
  await decoderRows(report, "vae-decoder", (await loadModel("vae")) as Vae, threads);
  const conv = Vae.create({ dim: 784, height: 28, width: 28, arch: "conv", channels: [32, 64], latent: 32, initSeed: 1 });
  await decoderRows(report, "conv-decoder", conv, threads);

  const nade = (await loadModel("nade")) as Nade;
  const ort = await OnnxModel.load(exportOnnx(nade), { threads, isolate: false });
  const { test } = canonicalSplit({ binarized: true });
  for (const batch of [1, 64]) {
    const x = test.x.subarray(0, batch * 784);
    const c = `nade-logp-b${batch}`;
    for (const backend of ["native", "js"] as const) {
      const ms = timeMs(() => nade.logProbSync(x, { backend }), backend === "js" ? 3 : 20, 1);
      report.add({ suite: "onnx", case: c, backend, value: ms, unit: "ms", note: `threads ${backend === "js" ? 1 : threads}` });
    }
    const ms = await timeMsAsync(() => ort.run({ x: { data: x, dims: [batch, 784] } }), batch === 1 ? 20 : 5, 1);
    report.add({
      suite: "onnx",
      case: c,
      backend: "onnxruntime",
      value: ms,
      unit: "ms",
      note: `intra-op threads ${threads}; CumSum graph`,
    });
  }
  await ort.dispose();
}
