/**
 * GAN generators: z [N, zdim] -> images [N, 1, H, W] in [-1, 1] (the tanh output; a runner
 * maps it to [0, 1] as Gan.sample does), batch norm in inference form with the running
 * statistics. MLP GANs on toy data (no image shape) export as x [N, dim]. The metadata
 * records how Gan.sample draws z, so a runner draws the same z for the same seed.
 */
import { packageVersion } from "../core/package-root.js";
import { type Gan, GAN_SAMPLE_CODE_STREAM, GAN_SAMPLE_Z_STREAM } from "../models/gan.js";
import type { DcganGenerator } from "../nn/dcgan-nets.js";
import type { Mlp } from "../nn/dense.js";
import type { RunInfo } from "./export-vae.js";
import { GraphBuilder } from "./graph-builder.js";
import { onnxMetadata } from "./metadata.js";
import { dcganGeneratorGraph, mlpGraph } from "./nets.js";

export function exportGanGenerator(model: Gan, run: RunInfo = {}): Uint8Array {
  const c = model.config;
  const g = new GraphBuilder(`${c.arch === "dcgan" ? "dcgan" : "gan"}-generator`);
  const z = g.input("z", ["N", model.latentDim]);
  const image = c.height !== undefined && c.width !== undefined;
  if (c.arch === "dcgan") g.output(dcganGeneratorGraph(g, model.generator as DcganGenerator, z, "images"), ["N", 1, c.height!, c.width!]);
  else if (image)
    g.output(g.reshape(mlpGraph(g, model.generator as Mlp, z), [-1, 1, c.height!, c.width!], "images"), ["N", 1, c.height!, c.width!]);
  else g.output(mlpGraph(g, model.generator as Mlp, z, "x"), ["N", c.dim]);
  const latent = {
    draw: "flat" as const,
    prior: "gaussian" as const,
    stream: GAN_SAMPLE_Z_STREAM,
    ...(model.codes > 0 ? { codes: model.codes, codeStream: GAN_SAMPLE_CODE_STREAM } : {}),
  };
  return g.toBytes(
    onnxMetadata({
      model: "gan",
      graph: "generator",
      config: c,
      latent,
      ...(image ? { image: { layout: "NCHW" as const, range: (c.output === "tanh" ? "-1,1" : "0,1") as "-1,1" | "0,1" } } : {}),
      ...run,
    }),
    packageVersion,
  );
}
