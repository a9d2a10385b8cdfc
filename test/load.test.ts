/**
 * One `load` for every model kind: shipped names and paths, the card beside the file, the
 * shared Sampler calls, and clear errors for files that are not deepgen models.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { isDeepgenError, load, Nade, SHIPPED_MODELS, type Sampler } from "../lib/index.js";
import { loadSampler, shippedSamplerNames } from "../lib/models/registry.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-load-"));

test("every shipped model loads by its short name as the class its file names, with its card", async (t) => {
  const kinds: Record<string, string> = {
    nade: "nade",
    rnade: "rnade",
    rowlstm: "rowlstm",
    diagbilstm: "diagbilstm",
    "rowlstm-l7": "rowlstm",
    "diagbilstm-l7": "diagbilstm",
    vae: "vae",
    aae: "aae",
    dcgan: "gan",
    "dcgan-conditional": "gan",
    classifier: "classifier",
    "caption-judge": "caption-judge",
    text2image: "text2image",
  };
  t.deepEqual(Object.keys(SHIPPED_MODELS).sort(), Object.keys(kinds).sort());
  for (const [name, kind] of Object.entries(kinds)) {
    const model = await load(name);
    t.is(model.kind, kind, name);
    t.is(typeof model.config, "object", name);
    t.truthy(model.card, `${name} has a card`);
    t.is(typeof model.card!.command, "string", `${name}'s card names its command`);
  }
});

test("every shipped sampler draws through the same Sampler calls, async and sync alike", async (t) => {
  for (const name of shippedSamplerNames()) {
    const model = (await load(name)) as Sampler;
    const a = await model.sample(2, { seed: 5 });
    const b = model.sampleSync(2, { seed: 5 });
    t.is(a.n, 2, name);
    t.is(a.x.length % 2, 0, name);
    t.deepEqual(a.x, b.x, `${name}: async and sync draws agree`);
  }
});

test("a model saved by a program loads with no card, and `kind` narrows the union", async (t) => {
  const path = join(dir, "tiny.safetensors");
  await Nade.create({ dim: 4, hidden: 2, height: 2, width: 2, initSeed: 1 }).save(path);
  const model = await load(path);
  t.is(model.card, null);
  if (model.kind !== "nade") return t.fail(`expected a NADE, got ${model.kind}`);
  t.is(model.config.hidden, 2);
});

test("load refuses what it cannot read with stable codes", async (t) => {
  const missing = await t.throwsAsync(load(join(dir, "nope.safetensors")));
  t.true(isDeepgenError(missing, "E_IO"), String(missing));
  const junk = join(dir, "junk.safetensors");
  writeFileSync(junk, "not a safetensors file at all");
  const bad = await t.throwsAsync(load(junk));
  t.true(isDeepgenError(bad, "E_FORMAT"), String(bad));
  const badOption = await t.throwsAsync(load("nade", { backend: "tpu" as never }));
  t.true(isDeepgenError(badOption, "E_ARG"), String(badOption));
  const unknownOption = await t.throwsAsync(load("nade", { threads: 2 } as never));
  t.true(isDeepgenError(unknownOption, "E_ARG"), String(unknownOption));
});

test("a card beside a model that is not JSON is E_FORMAT, not silently dropped", async (t) => {
  const path = join(dir, "carded.safetensors");
  await Nade.create({ dim: 4, hidden: 2, height: 2, width: 2, initSeed: 1 }).save(path);
  writeFileSync(join(dir, "carded.card.json"), "{ not json");
  const e = await t.throwsAsync(load(path));
  t.true(isDeepgenError(e, "E_FORMAT"), String(e));
  // the commands and the server load without the card, so it never keeps a model from sampling
  t.is((await loadSampler(path)).kind, "nade");
});
