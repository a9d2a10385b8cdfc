/**
 * Sample-quality benchmarks with the shipped classifier: feature extraction (the penultimate
 * layer, chunks of 500) in images/s, native against the JS twin, and the float64 FID itself
 * (statistics of 10,000 x 128 features plus the two Jacobi eigendecompositions).
 */
import { getThreads } from "../lib/kernels/threads.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { Classifier } from "../lib/models/classifier.js";
import { fid } from "../lib/models/fid.js";
import { resolveModelPath } from "../lib/models/registry.js";
import type { Report } from "./report.js";

export async function runQuality(report: Report): Promise<void> {
  const clf = await Classifier.load(resolveModelPath("classifier"));
  const { train, test } = canonicalSplit();
  const threads = getThreads();
  for (const backend of ["native", "js"] as const) {
    const n = backend === "js" ? 200 : 1996;
    const x = test.x.subarray(0, n * 784);
    clf.features(x.subarray(0, 10 * 784), { backend }); // warm-up
    const t0 = performance.now();
    clf.features(x, { backend });
    const s = (performance.now() - t0) / 1000;
    report.add({
      suite: "quality",
      case: "classifier-features",
      backend,
      value: n / s,
      unit: "images/s",
      note: `threads ${backend === "js" ? 1 : threads}; ${n} images`,
    });
  }
  const a = clf.features(train.x);
  const b = clf.features(test.x);
  const t1 = performance.now();
  fid(a, b, { dim: clf.featureDim });
  report.add({
    suite: "quality",
    case: "fid-8004-vs-1996-f128",
    backend: "js",
    value: performance.now() - t1,
    unit: "ms",
    note: "float64 statistics + Jacobi",
  });
}
