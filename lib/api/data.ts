/** deepgen/data: the canonical MNIST split, datasets and batching, toy distributions, MNIST-Captions-60. */
export { canonicalSplit, bundledMnist, canonicalIndices, MNIST_DIM, MNIST_SIDE, type Split } from "../data/mnist.js";
export { binarize, makeDataset, subset, type Dataset } from "../data/dataset.js";
export { readIdx } from "../data/idx.js";
export { epochBatches, permutation, splitValidation } from "../data/batching.js";
export {
  gaussianMixture,
  toyDistribution,
  TOY_DATASETS,
  TOY_STREAM,
  type MixtureSpec,
  type ToyDistribution,
  type ToyName,
} from "../data/toy.js";
export {
  allCaptions,
  captionSet,
  captionText,
  CAPTION_SETS,
  type Caption,
  type CaptionSet,
  type CaptionedCanvases,
} from "../data/mnist-captions.js";
export { testCanvases, validationCanvases, trainingCanvases } from "../data/mnist-captions-split.js";
export { tokenize, normalizeCaption, VOCABULARY } from "../data/caption-tokens.js";
export { binarizedCanvases } from "../models/text-cvae.js";
export { PRIORS, samplePrior, type PriorKind } from "../models/priors.js";
