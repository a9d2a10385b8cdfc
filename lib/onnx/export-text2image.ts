/**
 * The text-to-image generator as one graph: token ids and noise in, images out.
 *
 *   tokens int64 [N, L], z float32 [N, zdim]
 *   h = b0 + sum_i table[i * V + tokens[:, i]]  (Add position offsets, Gather, ReduceSum over L)
 *   e = dense(LeakyRelu(h))                     (the caption encoder, lib/nn/caption-encoder.ts)
 *   images = DCGAN generator([z, e]) -> [N, 1, 60, 60] in [-1, 1] (the tanh output, as the GAN export)
 *
 * The caption encoder sits inside the graph so a caller only has to tokenize; the metadata
 * carries the vocabulary, the caption length and the rule that makes ids of a caption, and
 * how TextToImage draws z, so a runner given the same seed draws the native model's images.
 */
import { packageVersion } from "../core/package-root.js";
import { TOKENIZATION_RULE } from "../data/caption-tokens.js";
import { T2I_SAMPLE_Z_STREAM, type TextToImage } from "../models/text2image.js";
import type { RunInfo } from "./export-vae.js";
import { CAPTION_LEAKY_SLOPE } from "../nn/caption-encoder.js";
import { GraphBuilder } from "./graph-builder.js";
import { onnxMetadata } from "./metadata.js";
import { dcganGeneratorGraph } from "./nets.js";

export function exportText2ImageGenerator(model: TextToImage, run: RunInfo = {}): Uint8Array {
  const c = model.config;
  const enc = model.genText;
  const { length: L, vocabulary: V, dim: Hd } = enc.embedding;
  const E = enc.dim;
  const { height: H, width: W } = model.generator.spec;
  const g = new GraphBuilder("text2image-generator");
  const tokens = g.input("tokens", ["N", L], "int64");
  const z = g.input("z", ["N", model.zdim]);
  // Row i * V + t of the table is token t at position i: offsets turn ids into table rows.
  const rows = g.node("Add", [
    tokens,
    g.int64s(
      "position_offsets",
      Array.from({ length: L }, (_, i) => i * V),
    ),
  ]);
  const table = g.weight(`${enc.name}.table`, enc.embedding.table, [L * V, Hd]);
  const words = g.node("Gather", [table, rows], { axis: 0 });
  const h = g.node("Add", [g.reduceSum(words, [1], false), g.weight(`${enc.name}.b`, enc.embedding.b, [Hd])]);
  const dense = enc.out.layers[0]!;
  const e = g.dense(g.leakyRelu(h, CAPTION_LEAKY_SLOPE), dense.w, dense.b, E, Hd, `${enc.name}.out.0`);
  const input = g.node("Concat", [z, e], { axis: 1 });
  g.output(dcganGeneratorGraph(g, model.generator, input, "images"), ["N", 1, H, W]);
  return g.toBytes(
    onnxMetadata({
      model: model.kind,
      graph: "generator",
      config: c,
      latent: { draw: "flat", prior: "gaussian", stream: T2I_SAMPLE_Z_STREAM },
      image: { layout: "NCHW", range: "-1,1" },
      captions: { vocabulary: [...c.vocabulary], length: c.tokens, tokenization: TOKENIZATION_RULE },
      ...run,
    }),
    packageVersion,
  );
}
