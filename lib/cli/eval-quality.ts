/**
 * deepgen eval MODEL --quality: samples n images from a sampler model and judges them with the
 * shipped classifier (lib/models/sample-quality.ts): classifier-FID against the canonical test
 * images, the floor FID (real train vs test), and class coverage. Also the report of
 * `deepgen eval` for a classifier file: its test accuracy.
 */
import { DeepgenError } from "../core/errors.js";
import { canonicalSplit } from "../data/mnist.js";
import { asModelFile } from "../io/model-file.js";
import { readSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import { Classifier } from "../models/classifier.js";
import { loadSampler, resolveModelPath } from "../models/registry.js";
import { sampleImages } from "../models/sample-images.js";
import { qualityClassifier, type SampleQuality, sampleQuality } from "../models/sample-quality.js";
import { ProgressLine } from "./common.js";
import { printJson } from "./output.js";

export interface QualityCliOptions {
  n: number;
  seed: number;
  classifier?: string;
  means?: boolean;
  backend?: BackendName;
  json?: boolean;
}

/** The deepgen.model of a model file (or shipped name). */
export async function modelKindOf(nameOrPath: string): Promise<string> {
  const path = resolveModelPath(nameOrPath);
  return asModelFile(await readSafetensors(path), path).model;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The JSON shape of a quality report (snake_case, as the other eval reports). */
export function qualityJson(model: string, q: SampleQuality, extra: Record<string, unknown>): Record<string, unknown> {
  const c = q.coverage;
  return {
    model,
    ...extra,
    n: q.n,
    fid: q.fid,
    floor_fid: q.floorFid,
    reference: q.reference,
    feature_layer: q.featureLayer,
    coverage: {
      fractions: c.fractions,
      counts: c.counts,
      min: c.min,
      max: c.max,
      entropy_nats: c.entropy,
      kl_from_uniform_nats: c.klFromUniform,
      within_5_15_percent: c.within5to15,
    },
    confident: { threshold: q.confident.threshold, fraction: q.confident.fraction, reference_fraction: q.confident.referenceFraction },
  };
}

export async function evalQuality(modelArg: string, opts: QualityCliOptions): Promise<void> {
  const model = await loadSampler(modelArg, { backend: opts.backend });
  const classifier = await qualityClassifier(opts.classifier, opts.backend);
  const progress = new ProgressLine();
  const t0 = performance.now();
  const s = await sampleImages(model, opts.n, opts.seed, {
    backend: opts.backend,
    means: opts.means,
    onProgress: (f) => progress.update(`sampling: ${(100 * f).toFixed(1)}%`),
  });
  const sampleSeconds = (performance.now() - t0) / 1000;
  progress.update("features and FID");
  // Binary samples are judged against binarized real images, everything else (pixel means
  // included) against the grayscale ones (README: "Sample quality").
  const q = await sampleQuality(s.x, { classifier, binarized: s.domain === "binary", backend: opts.backend });
  progress.done();
  const result = qualityJson(model.kind, q, {
    samples: s.domain,
    seed: opts.seed,
    classifier: opts.classifier ?? "classifier",
    sample_seconds: sampleSeconds,
    seconds: (performance.now() - t0) / 1000,
  });
  if (opts.json) {
    printJson(result);
    return;
  }
  const c = q.coverage;
  process.stdout.write(
    `${model.kind}: classifier-FID ${q.fid.toFixed(3)} against ${q.reference.n} ${q.reference.binarized ? "binarized " : ""}${q.reference.split} images (floor, real train vs test: ${q.floorFid.toFixed(3)}) on ${q.n} ${s.domain === "means" ? "pixel-mean images" : `${s.domain} samples`}, seed ${opts.seed}\n` +
      `  class coverage: ${c.fractions.map((f, d) => `${d}:${pct(f)}`).join(" ")}; min ${pct(c.min)}, max ${pct(c.max)}, KL from uniform ${c.klFromUniform.toFixed(4)} nats\n` +
      `  confidently classified (p >= ${q.confident.threshold}): ${pct(q.confident.fraction)} (real ${q.reference.split} images: ${pct(q.confident.referenceFraction)})\n` +
      `  features: ${q.featureLayer}\n`,
  );
}

/** deepgen eval on a classifier file: test accuracy and cross-entropy on the canonical test split. */
export async function evalClassifier(modelArg: string, opts: { backend?: BackendName; json?: boolean }): Promise<void> {
  const path = resolveModelPath(modelArg);
  const clf = await Classifier.load(path, { backend: opts.backend });
  const { test } = canonicalSplit();
  if (test.labels === undefined) throw new DeepgenError("E_FORMAT", "the test split has no labels");
  const r = clf.evaluate(test.x, test.labels, { backend: opts.backend });
  const result = {
    model: "classifier",
    test_accuracy: r.accuracy,
    test_errors: Math.round((1 - r.accuracy) * test.n),
    test_cross_entropy_nats: r.loss,
    test_size: test.n,
    param_count: clf.paramCount(),
  };
  if (opts.json) printJson(result);
  else
    process.stdout.write(
      `classifier: test accuracy ${(100 * r.accuracy).toFixed(2)}% (${result.test_errors} errors of ${test.n}), cross-entropy ${r.loss.toFixed(4)}, ${result.param_count} parameters\n`,
    );
}
