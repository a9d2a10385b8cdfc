/**
 * deepgen export MODEL --out model.onnx [--graph generator|encoder|density]: writes one graph
 * of a deepgen model as ONNX (opset 17), with the model card's data and metrics (the
 * <name>.card.json beside the model file, when there is one) in the metadata. A text-to-image
 * model exports its generator with the caption encoder inside (token ids and z in).
 */
import { existsSync, readFileSync } from "node:fs";

import type { Command } from "commander";

import { DeepgenError } from "../core/errors.js";
import { readModelKind } from "../io/model-file.js";
import { cardPathOf } from "../models/card.js";
import { loadSampler, resolveModelPath } from "../models/registry.js";
import { TextToImage } from "../models/text2image.js";
import { cardInfo, type GraphRole } from "../onnx/metadata.js";
import { printJson } from "./output.js";

interface ExportCliOptions {
  out: string;
  graph?: GraphRole;
  card?: string;
  json?: boolean;
}

function readCard(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${path}: not a readable JSON model card (${(e as Error).message})`, { cause: e });
  }
}

/** The model of a file: a sampler, or a text-to-image model (which draws from captions, so no sampler). */
async function loadExportable(path: string): Promise<{ kind: string }> {
  return (await readModelKind(path)) === "text2image" ? TextToImage.load(path) : loadSampler(path);
}

export function registerExport(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("export")
    .description(
      "export a model as ONNX (opset 17): a VAE / AAE / GAN generator, a VAE encoder, NADE's log-likelihood, a text-to-image generator",
    )
    .argument("<model>", "model file or shipped model name (e.g. vae)")
    .requiredOption("--out <path>", "ONNX file to write")
    .option("--graph <role>", "generator, encoder or density (default: the model's first: generator for VAE/AAE, density for NADE)")
    .option("--card <path>", "model card whose data and metrics go into the metadata (default: <model>.card.json when present)")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: ExportCliOptions) =>
      run(Boolean(opts.json), async () => {
        if (opts.graph !== undefined && !["generator", "encoder", "density"].includes(opts.graph)) {
          throw new DeepgenError("E_ARG", `--graph must be generator, encoder or density, got '${opts.graph}'`);
        }
        // loaded here, not at start-up: the ONNX writer's dependencies would slow every other command
        const { exportableGraphs, writeOnnx } = await import("../onnx/export.js");
        const path = resolveModelPath(modelArg);
        const model = await loadExportable(path);
        const graphs = exportableGraphs(model);
        const graph = opts.graph ?? graphs[0];
        const cardPath = opts.card ?? (existsSync(cardPathOf(path)) ? cardPathOf(path) : undefined);
        const card: { data?: string; metrics?: Record<string, number> } = cardPath === undefined ? {} : cardInfo(readCard(cardPath));
        const bytes = await writeOnnx(opts.out, model, { graph, data: card.data, metrics: card.metrics });
        const result = { model: model.kind, graph, out: opts.out, bytes, card: cardPath ?? null, available_graphs: graphs };
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote the ${graph} graph of ${model.kind} to ${opts.out} (${(bytes / 1e6).toFixed(2)} MB, opset 17)\n`);
      }),
    );
}
