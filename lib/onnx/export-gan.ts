/**
 * GAN generators: z [N, zdim] -> images [N, 1, H, W] in [-1, 1] (the tanh output; a runner
 * maps it to [0, 1] as Gan.sample does), batch norm in inference form with the running
 * statistics. MLP GANs on toy data (no image shape) export as x [N, dim]. The metadata
 * records how Gan.sample draws z, so a runner draws the same z for the same seed.
 */
import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import { DEFAULT_NORM_EPS } from "../kernels/ops/norm.js";
import { type Gan, GAN_SAMPLE_CODE_STREAM, GAN_SAMPLE_Z_STREAM } from "../models/gan.js";
import type { Mlp } from "../nn/dense.js";
import type { RunInfo } from "./export-vae.js";
import { GraphBuilder } from "./graph-builder.js";
import { onnxMetadata } from "./metadata.js";
import { mlpGraph } from "./nets.js";

const UP = { kernel: [4, 4] as [number, number], stride: [2, 2] as [number, number], pad: [1, 1] as [number, number] };

function tensor(t: Record<string, Float32Array>, key: string): Float32Array {
  const a = t[key];
  if (a === undefined) throw new DeepgenError("E_ARG", `ONNX export: the generator has no tensor ${key}`);
  return a;
}

/** The DCGAN generator of lib/nn/dcgan-nets.ts, layer by layer. */
function dcganGraph(g: GraphBuilder, model: Gan, z: string): string {
  const c = model.config;
  const [c0, c1] = c.channels!;
  const [h4, w4] = [c.height! / 4, c.width! / 4];
  const p = model.generator.params();
  const b = Object.fromEntries(Object.entries(model.generator.buffers!()).map(([k, v]) => [k, v.data]));
  const bn = (x: string, i: number): string =>
    g.relu(
      g.batchNormalization(
        x,
        tensor(p, `gen.${i}.gamma`),
        tensor(p, `gen.${i}.beta`),
        tensor(b, `gen.${i}.running_mean`),
        tensor(b, `gen.${i}.running_var`),
        DEFAULT_NORM_EPS,
        `gen.${i}`,
      ),
    );
  let h = g.dense(z, tensor(p, "gen.0.w"), tensor(p, "gen.0.b"), c0 * h4 * w4, model.latentDim, "gen.0");
  h = bn(g.reshape(h, [-1, c0, h4, w4]), 1);
  h = bn(g.convTranspose(h, tensor(p, "gen.2.w"), null, c0, c1, UP, "gen.2"), 2);
  h = g.convTranspose(h, tensor(p, "gen.3.w"), tensor(p, "gen.3.b"), c1, 1, UP, "gen.3");
  return g.tanh(h, "images");
}

export function exportGanGenerator(model: Gan, run: RunInfo = {}): Uint8Array {
  const c = model.config;
  const g = new GraphBuilder(`${c.arch === "dcgan" ? "dcgan" : "gan"}-generator`);
  const z = g.input("z", ["N", model.latentDim]);
  const image = c.height !== undefined && c.width !== undefined;
  if (c.arch === "dcgan") g.output(dcganGraph(g, model, z), ["N", 1, c.height!, c.width!]);
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
