/**
 * The adversarial autoencoder's decoder (MLP or conv) as an image generator: z [N, L] -> images
 * [N, 1, H, W] (pixel probabilities). The metadata records the prior, so a runner draws z exactly as
 * Aae.sample does (samplePrior with the same seed and stream), mixture priors included.
 */
import { packageVersion } from "../core/package-root.js";
import { type Aae, SAMPLE_Z_STREAM } from "../models/aae.js";
import type { RunInfo } from "./export-vae.js";
import { GraphBuilder } from "./graph-builder.js";
import { modelImageShape } from "./image-shape.js";
import { onnxMetadata } from "./metadata.js";
import { netGraph } from "./nets.js";

export function exportAaeDecoder(model: Aae, run: RunInfo = {}): Uint8Array {
  const [H, W] = modelImageShape(model.dim, model.config);
  const g = new GraphBuilder("aae-decoder");
  const z = g.input("z", ["N", model.latent]);
  g.output(g.reshape(g.sigmoid(netGraph(g, model.decoder, z)), [-1, 1, H, W], "images"), ["N", 1, H, W]);
  return g.toBytes(
    onnxMetadata({
      model: "aae",
      graph: "generator",
      config: model.config,
      latent: { draw: "prior", prior: model.config.prior, stream: SAMPLE_Z_STREAM },
      image: { layout: "NCHW", range: "0,1" },
      ...run,
    }),
    packageVersion,
  );
}
