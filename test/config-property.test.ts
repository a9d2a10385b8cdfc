/**
 * For every model kind: a model file whose config was changed (one field replaced by another
 * value, or removed, or a field added) either is refused on load with E_FORMAT, or loads and
 * then evaluates to finite numbers. A config the loader accepts must never reach a kernel
 * with sizes that disagree with the tensors, or produce NaN.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";
import fc from "fast-check";

import { DeepgenError } from "../lib/core/errors.js";
import { readSafetensors, writeSafetensors } from "../lib/io/safetensors.js";
import { Aae } from "../lib/models/aae.js";
import { IndependentBernoulli, MarkovChain } from "../lib/models/baselines.js";
import { Gan } from "../lib/models/gan.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { loadSampler } from "../lib/models/registry.js";
import { Rnade } from "../lib/models/rnade.js";
import { Vae } from "../lib/models/vae.js";

const RUNS = Number(process.env["DEEPGEN_CONFIG_RUNS"] ?? 60);
const dir = mkdtempSync(join(tmpdir(), "deepgen-config-"));

interface Savable {
  save(path: string): Promise<void>;
}

const KINDS: Record<string, () => Savable> = {
  bernoulli: () =>
    IndependentBernoulli.fit(
      Float32Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      16,
    ),
  markov: () =>
    MarkovChain.fit(
      Float32Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      16,
    ),
  nade: () => Nade.create({ dim: 16, hidden: 4, height: 4, width: 4, initSeed: 1 }),
  rnade: () => Rnade.create({ dim: 16, hidden: 4, components: 2, height: 4, width: 4, initSeed: 1 }),
  rowlstm: () => PixelRnn.create({ kind: "rowlstm", height: 4, width: 4, hidden: 4, initSeed: 1 }),
  diagbilstm: () => PixelRnn.create({ kind: "diagbilstm", height: 4, width: 4, hidden: 4, initSeed: 1 }),
  vae: () => Vae.create({ dim: 16, latent: 2, hidden: [4], height: 4, width: 4, initSeed: 1 }),
  "vae-conv": () => Vae.create({ dim: 64, arch: "conv", channels: [2, 3], latent: 2, height: 8, width: 8, initSeed: 1 }),
  aae: () => Aae.create({ dim: 16, latent: 2, hidden: [4], discHidden: [4], height: 4, width: 4, initSeed: 1 }),
  gan: () => Gan.create({ dim: 16, zdim: 3, hidden: [4], discHidden: [4], height: 4, width: 4, initSeed: 1 }),
  dcgan: () => Gan.create({ arch: "dcgan", dim: 784, zdim: 4, channels: [4, 2], discChannels: [2, 4], height: 28, width: 28, initSeed: 1 }),
};

const VALUES: unknown[] = [
  0,
  -1,
  1,
  2,
  3,
  4,
  7,
  16,
  64,
  1.5,
  -0.5,
  1e9,
  2 ** 31,
  null,
  "x",
  "",
  true,
  false,
  [],
  [1],
  [2, 2],
  [0, 3],
  {},
  "mlp",
  "conv",
  "dcgan",
  "natural",
  "random",
  "rowlstm",
  "diagbilstm",
  "tanh",
  "identity",
  "relu",
  "gaussian",
  "mog10",
  "bernoulli",
  "cbernoulli",
];

async function evaluate(path: string): Promise<number[]> {
  const model = await loadSampler(path);
  const values: number[] = [];
  const drawn = await model.sample(2, { seed: 3 });
  values.push(...drawn.x);
  if ("logProb" in model && typeof model.logProb === "function") {
    const dim = drawn.x.length / 2;
    // binary images, or for RNADE dequantized ones (values in [0, 1))
    const one = model.kind === "rnade" ? 0.5 : 1;
    const x = Float32Array.from({ length: 2 * dim }, (_, i) => (i % 5 === 0 ? one : 0));
    values.push(...(await model.logProb(x)));
  }
  return values;
}

for (const [kind, make] of Object.entries(KINDS)) {
  test(`${kind}: a changed config is refused with E_FORMAT or evaluates to finite numbers`, async (t) => {
    const original = join(dir, `${kind}.safetensors`);
    await make().save(original);
    t.true((await evaluate(original)).every(Number.isFinite), "the unchanged model evaluates");
    const file = await readSafetensors(original);
    const config = JSON.parse(file.metadata["deepgen.config"]!) as Record<string, unknown>;
    const tensors = Object.fromEntries(
      [...file.tensors].map(([name, tensor]) => [name, { shape: tensor.shape, data: tensor.data as Float32Array }]),
    );
    const keys = [...Object.keys(config), "unexpected"];
    let loaded = 0;
    let refused = 0;
    let i = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.oneof(fc.constantFrom(...VALUES), fc.constant(undefined)), async (key, value) => {
        const changed = { ...config };
        if (value === undefined) delete changed[key];
        else changed[key] = value;
        const path = join(dir, `${kind}-${i++}.safetensors`);
        await writeSafetensors(path, tensors, { ...file.metadata, "deepgen.config": JSON.stringify(changed) });
        let values: number[];
        try {
          values = await evaluate(path);
        } catch (e) {
          if (e instanceof DeepgenError && e.code === "E_FORMAT") {
            refused++;
            return;
          }
          throw new Error(`${key} = ${JSON.stringify(value)}: ${e instanceof DeepgenError ? e.code : ""} ${String(e)}`);
        }
        loaded++;
        const bad = values.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new Error(`${key} = ${JSON.stringify(value)} loads but evaluates to ${values[bad]}`);
      }),
      { numRuns: RUNS },
    );
    t.log(`${RUNS} changed configs: ${loaded} loaded and evaluated finite, ${refused} refused`);
  });
}
