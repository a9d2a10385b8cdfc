// PixelRNN completion: the known pixels stay, the rest are drawn on the counters of a sample
// (known = 0 is the sample itself), on every path: native and JS, cached and naive, sync and async.
import test from "ava";

import { PixelRnn } from "../lib/models/pixelrnn.js";
import { code } from "./helpers/errors.js";

const make = (kind: "rowlstm" | "diagbilstm") => PixelRnn.create({ kind, height: 5, width: 4, hidden: 3, initSeed: 2 });

for (const kind of ["rowlstm", "diagbilstm"] as const) {
  test(`${kind}: complete keeps the known pixels, draws the rest, and with known = 0 is sample`, async (t) => {
    const rnn = make(kind);
    const n = 3;
    const x = Float32Array.from({ length: n * 20 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const lone = await rnn.sample(n, { seed: 7, returnProbs: true });
    t.deepEqual(await rnn.complete(x, { seed: 7, known: 0, returnProbs: true }), lone);
    const done = await rnn.complete(x, { seed: 7, known: 8, returnProbs: true });
    for (let r = 0; r < n; r++) t.deepEqual(Array.from(done.x.subarray(r * 20, r * 20 + 8)), Array.from(x.subarray(r * 20, r * 20 + 8)));
    t.deepEqual(rnn.completeSync(x, { seed: 7, known: 8, returnProbs: true }), done, "sync");
    t.deepEqual(await rnn.complete(x, { seed: 7, known: 8, returnProbs: true, cached: false }), done, "naive sampler");
    const js = await rnn.complete(x, { seed: 7, known: 8, returnProbs: true, backend: "js" });
    t.deepEqual(js.x, done.x, "js draws");
    t.true(
      js.probs!.every((p, i) => Math.abs(p - done.probs![i]!) < 1e-5),
      "js probabilities",
    );
    // With all pixels known nothing is drawn; the probabilities are the model's of x.
    const all = await rnn.complete(x, { seed: 1, known: 20 });
    t.deepEqual(all.x, x);
  });
}

test("complete refuses a known count outside [0, D] and known pixels that are not 0 or 1", async (t) => {
  const rnn = make("rowlstm");
  const x = new Float32Array(20);
  t.is(
    code(t, () => rnn.completeSync(x, { seed: 1, known: 21 })),
    "E_ARG",
  );
  x[3] = 0.5;
  t.is(
    code(t, () => rnn.completeSync(x, { seed: 1, known: 4 })),
    "E_ARG",
  );
  t.is(rnn.completeSync(x, { seed: 1, known: 3 }).n, 1, "the value after the known pixels is not read");
  const err = await t.throwsAsync(rnn.complete(new Float32Array(19), { seed: 1, known: 0 }));
  t.is((err as { code?: string }).code, "E_SHAPE");
});
