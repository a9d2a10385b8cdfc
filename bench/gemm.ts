/**
 * GEMM benchmarks: square 128..1024 and the models' real shapes, native on 1 and 2 threads
 * against the JS twin, onnxruntime-node MatMul and tfjs matMul (cpu, wasm), plus each
 * native figure as a fraction of the measured FMA peak with the same thread count.
 */
import { getKernels } from "../lib/kernels/backend.js";
import { getThreads, setThreads } from "../lib/kernels/threads.js";
import { measureFmaPeak } from "../lib/kernels/peak.js";
import { randomNormal } from "../test/helpers/numeric.js";
import { oneNodeModel, ortSession, ortTensor, timeOrt } from "./peers/onnx.js";
import { tfjs, timeTf } from "./peers/tfjs.js";
import { type Report, timeMs } from "./report.js";

interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
  js: boolean; // the JS twin is slow: only on the smaller shapes
}

// Square sizes, then shapes the models use (batch x out x in).
const SHAPES: Shape[] = [
  { name: "128x128x128", m: 128, n: 128, k: 128, js: true },
  { name: "256x256x256", m: 256, n: 256, k: 256, js: true },
  { name: "512x512x512", m: 512, n: 512, k: 512, js: true },
  { name: "1024x1024x1024", m: 1024, n: 1024, k: 1024, js: false },
  { name: "nade-100x500x784", m: 100, n: 500, k: 784, js: true },
  { name: "vae-100x500x784", m: 100, n: 500, k: 784, js: false },
  { name: "dcgan-dense-64x6272x100", m: 64, n: 6272, k: 100, js: true },
];

export async function runGemm(report: Report, opts: { quick?: boolean } = {}): Promise<void> {
  const maxThreads = getThreads();
  const threadCounts = [...new Set([1, Math.min(2, maxThreads)])];
  const peaks = new Map<number, number>();
  for (const t of threadCounts) {
    const peak = measureFmaPeak({ threads: t }).gflops;
    peaks.set(t, peak);
    report.add({ suite: "kernels", case: `peak-fma-t${t}`, backend: "native", value: peak, unit: "GFLOP/s" });
  }
  const shapes = opts.quick
    ? SHAPES.slice(0, 2)
    : SHAPES.filter((s, i) => SHAPES.findIndex((o) => o.m === s.m && o.n === s.n && o.k === s.k) === i);
  for (const s of shapes) {
    const a = randomNormal(s.m * s.k, 1);
    const b = randomNormal(s.k * s.n, 2);
    const c = new Float32Array(s.m * s.n);
    const flop = 2 * s.m * s.n * s.k;
    const gflops = (ms: number): number => flop / ms / 1e6;
    const repeats = flop > 1e9 ? 5 : 11;
    for (const t of threadCounts) {
      setThreads(t);
      const ms = timeMs(() => getKernels("native").gemm({ a, b, c, m: s.m, n: s.n, k: s.k }), repeats);
      report.add({
        suite: "kernels",
        case: `gemm-${s.name}-t${t}`,
        backend: "native",
        value: gflops(ms),
        unit: "GFLOP/s",
        note: `${((100 * gflops(ms)) / peaks.get(t)!).toFixed(0)}% of peak`,
      });
      const session = await ortSession(
        oneNodeModel(
          "MatMul",
          [
            { name: "A", dims: [s.m, s.k] },
            { name: "B", dims: [s.k, s.n] },
          ],
          [],
          { name: "C", dims: [s.m, s.n] },
        ),
        t,
      );
      const ortMs = await timeOrt(session, { A: ortTensor(a, [s.m, s.k]), B: ortTensor(b, [s.k, s.n]) }, repeats);
      report.add({ suite: "kernels", case: `gemm-${s.name}-t${t}`, backend: "onnxruntime", value: gflops(ortMs), unit: "GFLOP/s" });
    }
    setThreads(maxThreads);
    if (s.js) {
      const jsMs = timeMs(() => getKernels("js").gemm({ a, b, c, m: s.m, n: s.n, k: s.k }), 1, 0);
      report.add({ suite: "kernels", case: `gemm-${s.name}-t1`, backend: "js", value: gflops(jsMs), unit: "GFLOP/s" });
    }
    for (const backend of ["cpu", "wasm"] as const) {
      if (backend === "cpu" && !s.js) continue;
      const tf = await tfjs(backend);
      const ta = tf.tensor2d(a, [s.m, s.k]);
      const tb = tf.tensor2d(b, [s.k, s.n]);
      const tfMs = await timeTf(tf, () => tf.matMul(ta, tb), backend === "cpu" ? 1 : 3);
      ta.dispose();
      tb.dispose();
      report.add({ suite: "kernels", case: `gemm-${s.name}-t1`, backend: `tfjs-${backend}`, value: gflops(tfMs), unit: "GFLOP/s" });
    }
  }
}
