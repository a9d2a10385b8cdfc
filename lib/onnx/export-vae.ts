/**
 * VAE graphs: the decoder as an image generator (z [N, L] -> images [N, 1, H, W], the pixel
 * probabilities sigmoid(logits), what `deepgen sample --probs` draws) and the encoder
 * (x [N, D] -> mu [N, L], logvar [N, L]). MLP and conv architectures alike.
 */
import type { Vae } from "../models/vae.js";
import { SAMPLE_Z_STREAM } from "../models/vae.js";
import { ConvDecoder } from "../nn/conv-nets.js";
import { GraphBuilder } from "./graph-builder.js";
import { modelImageShape } from "./image-shape.js";
import { type ExportInfo, onnxMetadata } from "./metadata.js";
import { convDecoderGraph, netGraph } from "./nets.js";
import { packageVersion } from "../core/package-root.js";

export interface RunInfo {
  /** The data the model was trained on (default: none recorded). */
  data?: string;
  /** Measured results to record (e.g. the model card's numbers). */
  metrics?: Record<string, number>;
}

function info(base: ExportInfo, run: RunInfo): Record<string, string> {
  return onnxMetadata({ ...base, ...run });
}

export function exportVaeDecoder(model: Vae, run: RunInfo = {}): Uint8Array {
  const [H, W] = modelImageShape(model.dim, model.config);
  const g = new GraphBuilder("vae-decoder");
  const z = g.input("z", ["N", model.latent]);
  if (model.decoder instanceof ConvDecoder) {
    g.sigmoid(convDecoderGraph(g, model.decoder, z, { flatOutput: false }), "images");
  } else {
    g.reshape(g.sigmoid(netGraph(g, model.decoder, z)), [-1, 1, H, W], "images");
  }
  g.output("images", ["N", 1, H, W]);
  return g.toBytes(
    info(
      {
        model: "vae",
        graph: "generator",
        config: model.config,
        latent: { draw: "flat", prior: "gaussian", stream: SAMPLE_Z_STREAM },
        image: { layout: "NCHW", range: "0,1" },
      },
      run,
    ),
    packageVersion,
  );
}

export function exportVaeEncoder(model: Vae, run: RunInfo = {}): Uint8Array {
  const L = model.latent;
  const g = new GraphBuilder("vae-encoder");
  const x = g.input("x", ["N", model.dim]);
  const h = netGraph(g, model.encoder, x);
  g.output(g.slice(h, 1, 0, L, "mu"), ["N", L]);
  g.output(g.slice(h, 1, L, 2 * L, "logvar"), ["N", L]);
  return g.toBytes(info({ model: "vae", graph: "encoder", config: model.config }, run), packageVersion);
}
