/**
 * Text-to-image generation through native, JS and onnxruntime-node, one run, batch 1 and 64:
 * the shipped model (text2image-mnist-captions.safetensors of the models package; a fresh model of the same
 * shape when it is missing). Native and JS time TextToImage.generateSync whole (tokenizing,
 * the noise draw, the caption embedding, the generator); onnxruntime times only the exported
 * graph's run on prepared token ids and noise (OnnxModel.run, session on this thread), which
 * favours it. onnxruntime runs with as many intra-op threads as the native pool.
 */
import { existsSync } from "node:fs";

import { tokenizeAll } from "../lib/data/caption-tokens.js";
import { getThreads } from "../lib/kernels/threads.js";
import { resolveModelPath } from "../lib/models/registry.js";
import { TextToImage } from "../lib/models/text2image.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { randomNormal } from "../test/helpers/numeric.js";
import { type Report, timeMs, timeMsAsync } from "./report.js";

const CAPTIONS = [
  "the digit 3 is at the top of the digit 5 .",
  "the digit 7 is on the left of the digit 1 .",
  "the digit 0 is at the bottom right of the image .",
  "the digit 4 is at the top left of the image .",
];

async function shippedOrFresh(): Promise<{ model: TextToImage; note: string }> {
  let path: string | undefined;
  try {
    path = resolveModelPath("text2image");
  } catch {
    path = undefined;
  }
  if (path !== undefined && existsSync(path)) return { model: await TextToImage.load(path), note: "shipped model" };
  return { model: TextToImage.create({ channels: [96, 48], discChannels: [48, 96], initSeed: 1 }), note: "fresh model (none shipped)" };
}

export async function runText2Image(report: Report): Promise<void> {
  const threads = getThreads();
  const { model, note } = await shippedOrFresh();
  const ort = await OnnxModel.load(exportOnnx(model), { threads, isolate: false });
  for (const batch of [1, 64]) {
    const captions = Array.from({ length: batch }, (_, i) => CAPTIONS[i % CAPTIONS.length]!);
    const c = `generate-b${batch}`;
    for (const backend of ["native", "js"] as const) {
      const reps = backend === "js" ? (batch === 1 ? 20 : 3) : batch === 1 ? 300 : 30;
      const ms = timeMs(() => model.generateSync(captions, { seed: 1, backend }), reps, 2);
      report.add({
        suite: "text2image",
        case: c,
        backend,
        value: ms,
        unit: "ms",
        note: `${note}; threads ${backend === "js" ? 1 : threads}`,
      });
    }
    const tokens = BigInt64Array.from(tokenizeAll(captions), (v) => BigInt(v));
    const z = randomNormal(batch * model.zdim, batch);
    const feeds = { tokens: { data: tokens, dims: [batch, 12] }, z: { data: z, dims: [batch, model.zdim] } };
    const ms = await timeMsAsync(() => ort.run(feeds), batch === 1 ? 300 : 30, 2);
    report.add({
      suite: "text2image",
      case: c,
      backend: "onnxruntime",
      value: ms,
      unit: "ms",
      note: `${note}; intra-op threads ${threads}; graph only`,
    });
  }
  await ort.dispose();
}
