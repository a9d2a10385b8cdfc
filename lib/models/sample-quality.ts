/**
 * Sample-quality metrics judged by the shipped MNIST classifier (models/mnist-classifier.safetensors,
 * lib/models/classifier.ts):
 *
 * - classifier-FID: the Fréchet distance (lib/models/fid.ts) between Gaussians fitted to the
 *   classifier's penultimate features (dense F = 128 after relu, the input of the logit layer)
 *   of the generated images and of the canonical test images;
 * - floor FID: the same distance between the real train images (8,004) and the test images,
 *   the value a perfect generator would get with a sample of that size (computed once per
 *   process and reference, then cached);
 * - class coverage: the fraction of generated images the classifier assigns to each digit,
 *   with min / max, the entropy and the KL divergence from the uniform distribution.
 *
 * Convention (README): images are in [0, 1]. Models of binarized MNIST (NADE, VAE, AAE with
 * Bernoulli decoders) are judged by their binary samples against the binarized test images
 * (`binarized: true`, floor: binarized train vs binarized test); real-valued generators
 * (GAN/DCGAN, whose tanh output is mapped by (x + 1) / 2; RNADE) against the grayscale test
 * images.
 */
import { checkFloat32Array, checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { binarize, type Dataset } from "../data/dataset.js";
import { canonicalSplit } from "../data/mnist.js";
import type { BackendName } from "../kernels/kernels.js";
import { Classifier } from "./classifier.js";
import { frechetDistance, type GaussianStats, gaussianStats } from "./fid.js";
import { resolveModelPath } from "./registry.js";

/** Which layer the features come from (reported with every FID). */
export function featureLayer(clf: Classifier): string {
  const c = clf.config;
  return `classifier penultimate layer: dense ${c.features} + ${c.activation} (the input of the ${c.classes} logits)`;
}

export interface ClassCoverage {
  /** Images per predicted class. */
  counts: number[];
  /** counts / n. */
  fractions: number[];
  min: number;
  max: number;
  /** Entropy of the fractions in nats (log 10 = 2.303 when uniform). */
  entropy: number;
  /** KL(fractions || uniform) = log C - entropy, in nats (0 when uniform). */
  klFromUniform: number;
  /** Every class between 5% and 15% (the class balance asked of a good MNIST sampler: none missing, none dominant). */
  within5to15: boolean;
}

/** Coverage of predicted classes (integers in [0, classes)). */
export function coverageFromPredictions(predictions: ArrayLike<number>, classes = 10): ClassCoverage {
  checkInteger("classes", classes, 1);
  const n = predictions.length;
  if (n === 0) throw new DeepgenError("E_SHAPE", "class coverage of no images is undefined");
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) {
    const c = predictions[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new DeepgenError("E_ARG", `predicted class ${c} outside 0..${classes - 1}`);
    counts[c]!++;
  }
  const fractions = counts.map((c) => c / n);
  let entropy = 0;
  for (const p of fractions) if (p > 0) entropy -= p * Math.log(p);
  const min = Math.min(...fractions);
  const max = Math.max(...fractions);
  return { counts, fractions, min, max, entropy, klFromUniform: Math.log(classes) - entropy, within5to15: min >= 0.05 && max <= 0.15 };
}

export interface QualityOptions {
  /** The classifier (a loaded one, or a path / shipped name; default: the shipped 'classifier'). */
  classifier?: Classifier | string;
  /** Real images to compare with (default "test"; the floor is always train vs test). */
  reference?: "test" | "train";
  /** Compare against binarized real images (for models of binarized MNIST). Default false. */
  binarized?: boolean;
  backend?: BackendName;
}

const classifiers = new Map<string, Promise<Classifier>>();

/** The classifier of a call: given, or loaded once per process per path. */
export async function qualityClassifier(c: Classifier | string | undefined, backend?: BackendName): Promise<Classifier> {
  if (c instanceof Classifier) return c;
  const path = resolveModelPath(c ?? "classifier");
  let p = classifiers.get(path);
  if (p === undefined) {
    p = Classifier.load(path, { backend });
    classifiers.set(path, p);
    p.catch(() => classifiers.delete(path));
  }
  return p;
}

function checkImages(images: Float32Array, clf: Classifier): number {
  checkFloat32Array("images", images);
  if (images.length % clf.dim !== 0 || images.length === 0) {
    throw new DeepgenError(
      "E_SHAPE",
      `images: ${images.length} values are not a whole, non-zero number of ${clf.config.height}x${clf.config.width} images`,
    );
  }
  for (let i = 0; i < images.length; i++) {
    const v = images[i]!;
    if (!(v >= 0 && v <= 1))
      throw new DeepgenError("E_ARG", `images must be in [0, 1] (map tanh outputs by (x + 1) / 2), found ${v} at ${i}`);
  }
  return images.length / clf.dim;
}

/** Penultimate-layer features [n, F] of images [n, 784] in [0, 1]. */
export async function features(images: Float32Array, opts: Pick<QualityOptions, "classifier" | "backend"> = {}): Promise<Float32Array> {
  const clf = await qualityClassifier(opts.classifier, opts.backend);
  checkImages(images, clf);
  return clf.features(images, { backend: opts.backend });
}

/** Fraction of images per predicted digit (see ClassCoverage). */
export async function classCoverage(
  images: Float32Array,
  opts: Pick<QualityOptions, "classifier" | "backend"> = {},
): Promise<ClassCoverage> {
  const clf = await qualityClassifier(opts.classifier, opts.backend);
  checkImages(images, clf);
  return coverageFromPredictions(clf.predict(images, { backend: opts.backend }), clf.config.classes);
}

interface RealStats {
  train: GaussianStats;
  test: GaussianStats;
  floor: number;
  /** Fractions of the real images classified confidently (CONFIDENT_PROBABILITY). */
  confident: { train: number; test: number };
}

/** The classifier probability from which a prediction counts as confident. */
export const CONFIDENT_PROBABILITY = 0.9;

function confidentFraction(confidences: Float32Array): number {
  let k = 0;
  for (const p of confidences) if (p >= CONFIDENT_PROBABILITY) k++;
  return k / confidences.length;
}

// Per classifier object and binarization: the real images' statistics and the floor FID.
const realStatsCache = new WeakMap<Classifier, Map<boolean, RealStats>>();

function realStats(clf: Classifier, binarized: boolean, backend?: BackendName): RealStats {
  let byKind = realStatsCache.get(clf);
  if (byKind === undefined) {
    byKind = new Map();
    realStatsCache.set(clf, byKind);
  }
  let s = byKind.get(binarized);
  if (s === undefined) {
    const split = canonicalSplit();
    const prep = (d: Dataset): Float32Array => (binarized ? binarize(d).x : d.x);
    const train = clf.featuresAndPredictions(prep(split.train), { backend });
    const test = clf.featuresAndPredictions(prep(split.test), { backend });
    const trainStats = gaussianStats(train.features, clf.featureDim);
    const testStats = gaussianStats(test.features, clf.featureDim);
    s = {
      train: trainStats,
      test: testStats,
      floor: frechetDistance(trainStats, testStats),
      confident: { train: confidentFraction(train.confidences), test: confidentFraction(test.confidences) },
    };
    byKind.set(binarized, s);
  }
  return s;
}

export interface SampleQuality {
  /** Classifier-FID of the images against the reference images. */
  fid: number;
  /** Classifier-FID of the real train images against the real test images (same features, same binarization). */
  floorFid: number;
  coverage: ClassCoverage;
  /**
   * Fraction of the images the classifier labels with probability >= `threshold`, beside the
   * same fraction of the reference images: a low one means many digits the classifier cannot
   * tell apart (malformed or in between two classes).
   */
  confident: { threshold: number; fraction: number; referenceFraction: number };
  /** Number of images judged. */
  n: number;
  reference: { split: "test" | "train"; binarized: boolean; n: number };
  featureLayer: string;
}

/** FID against the reference split, the floor FID, class coverage and the confidently classified fraction of images [n, 784] in [0, 1] (n >= 2). */
export async function sampleQuality(images: Float32Array, opts: QualityOptions = {}): Promise<SampleQuality> {
  const clf = await qualityClassifier(opts.classifier, opts.backend);
  const n = checkImages(images, clf);
  if (n < 2) throw new DeepgenError("E_SHAPE", "sample quality needs at least 2 images (a covariance)");
  const split = opts.reference ?? "test";
  if (split !== "test" && split !== "train") throw new DeepgenError("E_ARG", `reference must be 'test' or 'train', got ${String(split)}`);
  const binarized = opts.binarized ?? false;
  const real = realStats(clf, binarized, opts.backend);
  const { features: f, predictions, confidences } = clf.featuresAndPredictions(images, { backend: opts.backend });
  const ref = split === "test" ? real.test : real.train;
  return {
    fid: frechetDistance(gaussianStats(f, clf.featureDim), ref),
    floorFid: real.floor,
    coverage: coverageFromPredictions(predictions, clf.config.classes),
    confident: { threshold: CONFIDENT_PROBABILITY, fraction: confidentFraction(confidences), referenceFraction: real.confident[split] },
    n,
    reference: { split, binarized, n: ref.n },
    featureLayer: featureLayer(clf),
  };
}
