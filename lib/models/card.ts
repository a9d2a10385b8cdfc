/**
 * Model cards: the JSON file beside a trained model that says what it is, how it was trained,
 * what it measures and on what machine, and its training curve (<stem>.curve.png). The
 * library builds and writes them (one builder per family: density-card.ts, latent-card.ts,
 * gan-card.ts, classifier-card.ts), so a program that calls fit can write the same card as
 * `deepgen train`, which only adds its command line.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";

import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import { atomicWriteFile } from "../io/atomic-write.js";
import { linePlot, type PlotOptions, type Series } from "../io/plot.js";
import { writePng } from "../io/png.js";

/** Where a model came from: the first fields of every card, in this order. */
export interface CardSource {
  /** The family as the card names it ("nade", "dcgan", ...). */
  model: string;
  /** The model file the card describes. */
  file: string;
  /** How it was trained: the command line, or the training program's own description. */
  command: string;
  /** The data it was trained and tested on. */
  data: string;
}

/** The card's source fields in their fixed order. */
export function cardHead(source: CardSource): CardSource {
  return { model: source.model, file: source.file, command: source.command, data: source.data };
}

/** The machine a model was trained on, for its card. */
export function machineInfo(): { cpu: string; cores: number; platform: string; node: string } {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
  };
}

/** The last fields of every card: the deepgen version, the machine and the date of writing. */
export function cardFooter(): { deepgen_version: string; machine: ReturnType<typeof machineInfo>; date: string } {
  return { deepgen_version: packageVersion, machine: machineInfo(), date: new Date().toISOString() };
}

/** How a training run went, as the cards of gradient-trained models report it. */
export interface CardRun {
  paramCount: number;
  history: readonly unknown[];
  /** The epoch whose parameters the model holds. */
  bestEpoch: number;
  /** The run stopped early (a stop signal): the model holds what it had by then. */
  interrupted: boolean;
  /** The signal that stopped it (SIGINT, SIGTERM, SIGHUP), when one did. */
  signal?: string;
  trainSeconds: number;
  /** The training options worth reporting, as the trainer named them. */
  options: Record<string, unknown>;
}

/** The run's fields of a card, in their fixed order, then cardFooter's. */
export function cardRunFields(run: CardRun) {
  return {
    param_count: run.paramCount,
    epochs_run: run.history.length,
    ...(run.interrupted ? { interrupted: true, ...(run.signal === undefined ? {} : { stopped_by: run.signal }) } : {}),
    best_epoch: run.bestEpoch,
    train_seconds: run.trainSeconds,
    history: run.history,
    options: run.options,
    ...cardFooter(),
  };
}

/** Writes a model card as indented JSON, atomically (a failed write keeps the old card). */
export async function writeCard(path: string, card: unknown): Promise<void> {
  await atomicWriteFile(path, [new TextEncoder().encode(`${JSON.stringify(card, null, 2)}\n`)]);
}

/** A plot of per-epoch figures: its series and labels. */
export interface TrainingCurve {
  series: Series[];
  options: PlotOptions;
}

/** Draws a training curve as a PNG. */
export async function writeCurve(path: string, curve: TrainingCurve): Promise<void> {
  await writePng(path, linePlot(curve.series, curve.options));
}

/**
 * A model card as read back: the source fields deepgen writes first (absent from a card
 * written by hand), then whatever the family reports.
 */
export interface ModelCard extends Partial<CardSource> {
  readonly [field: string]: unknown;
}

/** models/x.safetensors -> models/x.card.json */
export function cardPathOf(modelPath: string): string {
  return `${modelPath.replace(/\.safetensors$/, "")}.card.json`;
}

/**
 * The card beside a model file, or null when there is none (a model saved by a program that
 * wrote no card). A card that exists but cannot be read is E_FORMAT, never silently null.
 */
export async function readCardOf(modelPath: string): Promise<ModelCard | null> {
  const path = cardPathOf(modelPath);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new DeepgenError("E_IO", `cannot read the model card ${path}: ${(e as Error).message}`, { cause: e });
  }
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${path}: the model card is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof card !== "object" || card === null || Array.isArray(card))
    throw new DeepgenError("E_FORMAT", `${path}: a model card must be a JSON object`);
  return card as ModelCard;
}
