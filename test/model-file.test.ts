import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { readSafetensors, writeSafetensors } from "../lib/io/safetensors.js";
import { Nade } from "../lib/models/nade.js";
import { loadSampler } from "../lib/models/registry.js";
import { Vae } from "../lib/models/vae.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-model-file-"));

/** A copy of a saved model file with one value of one tensor replaced. */
async function poisoned(path: string, tensor: string, index: number, value: number): Promise<string> {
  const f = await readSafetensors(path);
  const out = join(dir, `${tensor}-${String(value)}-${index}.safetensors`);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of f.tensors) {
    const data = Float32Array.from(t.data as Float32Array);
    if (name === tensor) data[index] = value;
    tensors[name] = { shape: t.shape, data };
  }
  await writeSafetensors(out, tensors, f.metadata);
  return out;
}

test("model files with a NaN or infinite weight are E_FORMAT naming the tensor, on every load path", async (t) => {
  const nadePath = join(dir, "nade.safetensors");
  await Nade.create({ dim: 6, hidden: 3, initSeed: 1 }).save(nadePath);
  const vaePath = join(dir, "vae.safetensors");
  await Vae.create({ dim: 6, latent: 2, hidden: [4], initSeed: 1 }).save(vaePath);
  const nadeTensors = [...(await readSafetensors(nadePath)).tensors.keys()];
  const vaeTensors = [...(await readSafetensors(vaePath)).tensors.keys()];
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    const badNade = await poisoned(nadePath, nadeTensors[0]!, 2, value);
    for (const load of [() => Nade.load(badNade), () => loadSampler(badNade)]) {
      const err = await t.throwsAsync(load(), { instanceOf: DeepgenError });
      t.is(err!.code, "E_FORMAT");
      t.true(err!.message.includes(`tensor '${nadeTensors[0]}' holds ${value} at index 2`), err!.message);
    }
    const badVae = await poisoned(vaePath, vaeTensors.at(-1)!, 0, value);
    const err = await t.throwsAsync(Vae.load(badVae), { instanceOf: DeepgenError });
    t.is(err!.code, "E_FORMAT");
    t.regex(err!.message, /model weights must be finite/);
  }
  t.truthy(await Nade.load(nadePath), "the finite original still loads");
});
