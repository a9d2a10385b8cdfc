import test from "ava";

import * as deepgen from "../lib/index.js";

test("every model class is exported from the package entry (the README imports them from 'deepgen')", (t) => {
  const root = deepgen as Record<string, unknown>;
  for (const name of [
    "Nade",
    "Rnade",
    "PixelRnn",
    "Vae",
    "Aae",
    "Gan",
    "IndependentBernoulli",
    "MarkovChain",
    "Classifier",
    "OnnxModel",
    "OnnxGenerator",
    "TextToImage",
    "TextCvae",
    "CaptionJudge",
    "OnnxTextToImage",
  ]) {
    t.is(typeof root[name], "function", name);
  }
});
