/**
 * deepgen train gan|dcgan: adversarial training (lib/models/gan.ts) on grayscale MNIST in
 * [-1, 1]. Writes, beside the model file: a sample grid per epoch (<stem>.samples/epoch-NNN.png,
 * the same latent draws every epoch), the two losses by epoch (<stem>.curve.png), a
 * checkpoint (<stem>.ckpt.safetensors, --resume) and a model card (<stem>.card.json).
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";

import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import { atomicWriteFile } from "../io/atomic-write.js";
import { linePlot } from "../io/plot.js";
import { writeImageGrid, writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { Gan, type GanEpochRecord, GAN_LOSSES, type GanLoss } from "../models/gan.js";
import { formatDuration, loadData, ProgressLine, type DataOptions } from "./common.js";
import { printJson } from "./output.js";

export interface GanTrainOptions extends DataOptions {
  hidden?: number;
  layers: number;
  zdim?: number;
  channels?: string;
  discChannels?: string;
  discNorm?: boolean;
  loss: string;
  dSteps: number;
  beta1: number;
  epochs: number;
  lr: number;
  batch: number;
  seed: number;
  out?: string;
  resume?: boolean;
  backend?: BackendName;
  json?: boolean;
}

/** Defaults of the GAN families where `train`'s shared options mean something else. */
export const GAN_DEFAULTS = { epochs: 25, lr: 2e-4, batch: 64 };

const GRID_SEED = 12345;
const GRID_N = 64;

function stem(path: string): string {
  return path.replace(/\.safetensors$/, "");
}

function channelPair(flag: string, v: string): [number, number] {
  const c = v.split(",").map(Number);
  if (c.length !== 2 || !c.every((x) => Number.isInteger(x) && x >= 1 && x <= 4096)) throw new DeepgenError("E_ARG", `${flag} must be two positive integers like 128,64, got ${v}`);
  return c as [number, number];
}

export async function trainGan(family: "gan" | "dcgan", opts: GanTrainOptions): Promise<void> {
  const out = opts.out ?? `${family}.safetensors`;
  const data = loadData(opts, "grayscale");
  const x = data.train.x.map((v) => 2 * v - 1); // tanh range
  const loss = GAN_LOSSES.includes(opts.loss as GanLoss) ? (opts.loss as GanLoss) : undefined;
  if (loss === undefined) throw new DeepgenError("E_ARG", `--loss must be one of ${GAN_LOSSES.join(", ")}, got ${opts.loss}`);
  const shape = { dim: data.train.dim, height: data.train.height, width: data.train.width };
  const model =
    family === "dcgan"
      ? Gan.create({
          arch: "dcgan",
          ...shape,
          zdim: opts.zdim ?? 100,
          channels: channelPair("--channels", opts.channels ?? "128,64"),
          discChannels: channelPair("--disc-channels", opts.discChannels ?? "64,128"),
          discNorm: Boolean(opts.discNorm),
          initSeed: opts.seed,
          backend: opts.backend,
        })
      : Gan.create({
          arch: "mlp",
          ...shape,
          zdim: opts.zdim ?? 64,
          hidden: Array.from({ length: Math.max(1, opts.layers) }, () => opts.hidden ?? 256),
          discHidden: Array.from({ length: Math.max(1, opts.layers) }, () => opts.hidden ?? 256),
          initSeed: opts.seed,
          backend: opts.backend,
        });
  const samplesDir = `${stem(out)}.samples`;
  await mkdir(samplesDir, { recursive: true });
  const progress = new ProgressLine();
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    controller.abort();
    process.stderr.write("\ninterrupt: stopping at the next batch (the checkpoint of the last epoch is kept)\n");
  };
  process.once("SIGINT", onSigint);
  const history: GanEpochRecord[] = [];
  const t0 = performance.now();
  try {
    const r = await model.fit(x, {
      epochs: opts.epochs,
      batchSize: opts.batch,
      lr: opts.lr,
      beta1: opts.beta1,
      discriminatorSteps: opts.dSteps,
      loss,
      seed: opts.seed,
      backend: opts.backend,
      checkpointPath: `${stem(out)}.ckpt.safetensors`,
      resumeFrom: opts.resume ? `${stem(out)}.ckpt.safetensors` : undefined,
      signal: controller.signal,
      onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} D loss ${p.loss.toFixed(3)}`),
      onEpoch: async (e) => {
        history.push(e);
        const grid = model.sampleSync(GRID_N, { seed: GRID_SEED });
        await writeImageGrid(join(samplesDir, `epoch-${String(e.epoch).padStart(3, "0")}.png`), grid.x, GRID_N, shape.height, shape.width, { scale: 2 });
        progress.done(
          `epoch ${e.epoch}: D loss ${e.terms.discriminatorLoss.toFixed(3)}, G loss ${e.terms.generatorLoss.toFixed(3)}, D(x) ${e.terms.dReal.toFixed(3)}, D(G(z)) ${e.terms.dFake.toFixed(3)} (${e.seconds.toFixed(1)} s)`,
        );
      },
    });
    history.splice(0, history.length, ...r.history);
  } catch (e) {
    if (!(e instanceof DeepgenError && e.code === "E_ABORTED" && interrupted)) throw e;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await model.save(out);
  const result = {
    model: family,
    file: out,
    command: `deepgen ${process.argv.slice(2).join(" ")}`,
    data: `${data.source}; images scaled to [-1, 1]`,
    train_size: data.train.n,
    param_count: model.paramCount(),
    generator_param_count: model.generator.paramCount(),
    epochs_run: history.length,
    ...(interrupted ? { interrupted: true } : {}),
    train_seconds: trainSeconds,
    config: model.config,
    history,
    options: { loss, d_steps: opts.dSteps, lr: opts.lr, beta1: opts.beta1, batch: opts.batch, seed: opts.seed },
    deepgen_version: packageVersion,
    machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, platform: `${process.platform}-${process.arch}`, node: process.versions.node },
    date: new Date().toISOString(),
  };
  await atomicWriteFile(`${stem(out)}.card.json`, [new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`)]);
  if (history.length > 0) {
    await writePng(
      `${stem(out)}.curve.png`,
      linePlot(
        [
          { name: "discriminator loss", values: history.map((h) => h.terms.discriminatorLoss) },
          { name: "generator loss", values: history.map((h) => h.terms.generatorLoss) },
        ],
        { xLabel: "epoch", yLabel: "BCE (nats)", title: `${family}: losses by epoch` },
      ),
    );
  }
  if (interrupted) {
    progress.done(`interrupted after ${history.length} epochs: the model is in ${out}; resume with --resume`);
    process.exitCode = 130;
  }
  if (opts.json) printJson(result);
  else process.stdout.write(`${family}: ${history.length} epochs, ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}, samples in ${samplesDir}/\n`);
}
