/**
 * PixelRNN benchmarks (Row LSTM and Diagonal BiLSTM, 28x28, the shipped models when present,
 * else 1 layer H = 32): NLL throughput at batch 64, one training epoch (batch 32, timed on a
 * few batches and extrapolated to the 7,204 training images), and sampling images/s at
 * batch 1 and 16 for the cached (linear-time) and the naive (full recompute per pixel)
 * samplers, native and JS. Slow cases run once: the naive sampler at batch 16 only natively,
 * and the JS twin's training and NLL on a slice (reported per image).
 */
import { getKernels } from "../lib/kernels/backend.js";
import { gatherRows } from "../lib/data/batching.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import type { PixelRnnModelArrays } from "../lib/kernels/ops/pixelrnn.js";
import { PixelRnn, type PixelRnnKindName } from "../lib/models/pixelrnn.js";
import { loadModel } from "../lib/models/registry.js";
import { type Report, timeMs } from "./report.js";

async function benchModel(kind: PixelRnnKindName): Promise<PixelRnn> {
  try {
    return (await loadModel(kind)) as PixelRnn;
  } catch {
    return PixelRnn.create({ kind, layers: 1, hidden: 32, height: 28, width: 28, initSeed: 1 });
  }
}

const TRAIN_IMAGES = 7204;

export async function runPixelRnn(report: Report): Promise<void> {
  const { train, test } = canonicalSplit({ binarized: true });
  for (const kind of ["rowlstm", "diagbilstm"] as const) {
    const model = await benchModel(kind);
    const m: PixelRnnModelArrays = { spec: model.spec, params: model.params };
    const tag = `L${model.config.layers}-h${model.config.hidden}`;
    const add = (c: string, backend: "native" | "js", value: number, unit: string, note?: string): void =>
      report.add({ suite: "pixelrnn", case: `${kind}-${tag}-${c}`, backend, value, unit, ...(note ? { note } : {}) });
    for (const backend of ["native", "js"] as const) {
      const k = getKernels(backend);
      const n = backend === "js" ? 4 : 64;
      const logp = new Float32Array(n);
      const ms = timeMs(() => k.pixelRnnLogProb(m, test.x, n, logp), backend === "js" ? 1 : 3, backend === "js" ? 0 : 1);
      add(`nll-b64`, backend, (n / ms) * 1000, "images/s", backend === "js" ? "JS timed on 4 images" : undefined);
      const batch = backend === "js" ? 2 : 32;
      const batches = backend === "js" ? 1 : 6;
      const xb = new Float32Array(batch * 784);
      const g = new Float32Array(model.params.length);
      const lp = new Float32Array(batch);
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        gatherRows(
          train,
          Uint32Array.from({ length: batch }, (_, i) => (b * batch + i) % train.n),
          xb,
        );
        k.pixelRnnBackward(m, xb, batch, 1 / batch, lp, g);
      }
      const epochNote =
        backend === "js" ? "JS: one batch of 2, extrapolated" : `${batches} batches, extrapolated to ${TRAIN_IMAGES} images`;
      add("train-epoch-b32", backend, ((performance.now() - t0) / 1000) * (TRAIN_IMAGES / (batch * batches)), "s", epochNote);
      for (const cached of [true, false]) {
        for (const size of [1, 16]) {
          if (!cached && size === 16 && backend === "js") continue; // minutes: the batch-1 rate says enough
          const x = new Float32Array(size * 784);
          let seed = 0;
          const slow = !cached || backend === "js";
          const sms = timeMs(() => k.pixelRnnSample(m, { n: size, seed: seed++, cached }, x), slow ? 1 : 20, slow ? 0 : 2);
          add(`sample-${cached ? "cached" : "naive"}-b${size}`, backend, (size / sms) * 1000, "images/s");
          if (size === 1) add(`sample-${cached ? "cached" : "naive"}-b1-latency`, backend, sms, "ms");
        }
      }
    }
  }
}
