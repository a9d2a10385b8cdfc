import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { densityCard, densityCurve, writeCard, writeCurve } from "../lib/api/io.js";
import { testLikelihood } from "../lib/api/metrics.js";
import { Nade } from "../lib/index.js";

test("a program that calls fit writes the same card and curve as deepgen train, from the package's API", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "deepgen-card-"));
  const x = Float32Array.from({ length: 40 * 16 }, (_, i) => ((i * 7) % 5 === 0 ? 1 : 0));
  const nade = Nade.create({ dim: 16, hidden: 4, height: 4, width: 4, initSeed: 1 });
  const fit = await nade.fit(x, { epochs: 3, batchSize: 10, seed: 2 });
  const file = join(dir, "nade.safetensors");
  await nade.save(file);
  const likelihood = await testLikelihood(nade, x, false);
  const card = densityCard(
    { model: "nade", file, command: "a training program", data: "40 toy images" },
    {
      trainSplitSize: 40,
      validationSize: fit.validationSize,
      testSize: 40,
      likelihood,
      paramCount: nade.paramCount(),
      history: fit.history,
      bestEpoch: fit.bestEpoch,
      interrupted: false,
      trainSeconds: 0.1,
      options: { hidden: 4 },
    },
  );
  await writeCard(join(dir, "nade.card.json"), card);
  await writeCurve(join(dir, "nade.curve.png"), densityCurve("nade", fit.history));
  const back = JSON.parse(readFileSync(join(dir, "nade.card.json"), "utf8"));
  t.is(back.model, "nade");
  t.is(back.epochs_run, 3);
  t.is(back.test_nll_nats, likelihood.test_nll_nats);
  t.true(Number.isFinite(back.test_nll_nats) && back.test_nll_nats > 0);
  t.is(back.history.length, 3);
  t.true(existsSync(join(dir, "nade.curve.png")));
});
