import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { CaptionEncoder } from "../lib/nn/caption-encoder.js";
import { TokenEmbedding } from "../lib/nn/token-embedding.js";
import { generatorLoss, matchingAwareLoss } from "../lib/models/text2image-loss.js";
import { randomUniform } from "./helpers/numeric.js";

test("the matching-aware loss has its exact value on a tiny case", (t) => {
  // one row, E = 1: l(real, match) = 0.5 + 2 * 0.25 = 1, l(real, mismatch) = 0.5 + 2 * -0.5 = -0.5, l(fake) = -1 + 4 * 0.25 = 0
  const out = Float32Array.of(0.5, 2, -1, 4);
  const r = matchingAwareLoss(out, Float32Array.of(0.25), Float32Array.of(-0.5), 1, 1);
  const softplus = (x: number) => Math.log1p(Math.exp(x));
  const want = softplus(-1) + 0.5 * softplus(-0.5) + 0.5 * softplus(0);
  t.true(Math.abs(r.loss - want) < 1e-12, `${r.loss} vs ${want}`);
  t.true(Math.abs(want - 0.896873769888249) < 1e-12);
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  t.true(Math.abs(r.dReal - sig(1)) < 1e-12);
  t.true(Math.abs(r.dMismatched - sig(-0.5)) < 1e-12);
  t.true(Math.abs(r.dFake - 0.5) < 1e-12);
  // d/do0 of the real row: (sig(1) - 1) + 0.5 sig(-0.5)
  t.true(Math.abs(r.dOut[0]! - (sig(1) - 1 + 0.5 * sig(-0.5))) < 1e-6);
  // Without the matching-aware term: softplus(-1) + softplus(0).
  const plain = matchingAwareLoss(out, Float32Array.of(0.25), Float32Array.of(-0.5), 1, 1, false);
  t.true(Math.abs(plain.loss - (softplus(-1) + softplus(0))) < 1e-12);
  t.true(Number.isNaN(plain.dMismatched));
  t.deepEqual(Array.from(plain.dMismatch), [0]);
});

/** Central differences of f at each entry of the arrays, against the analytic gradients. */
function checkGradients(
  t: import("ava").ExecutionContext,
  f: () => number,
  pairs: [Float32Array, Float32Array][],
  h = 1e-2,
  tol = 2e-3,
): void {
  for (const [x, g] of pairs) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      x[i] = v + h;
      const up = f();
      x[i] = v - h;
      const down = f();
      x[i] = v;
      const fd = (up - down) / (2 * h);
      t.true(Math.abs(fd - g[i]!) <= tol * Math.max(1, Math.abs(fd)), `entry ${i}: finite difference ${fd}, gradient ${g[i]}`);
    }
  }
}

for (const matchingAware of [true, false]) {
  test(`the matching-aware loss's gradients match finite differences (matchingAware ${matchingAware})`, (t) => {
    const m = 3;
    const E = 4;
    const out = randomUniform(2 * m * (1 + E), 1);
    const match = randomUniform(m * E, 2);
    const mismatch = randomUniform(m * E, 3);
    const r = matchingAwareLoss(out, match, mismatch, m, E, matchingAware);
    const f = () => matchingAwareLoss(out, match, mismatch, m, E, matchingAware).loss;
    checkGradients(t, f, [
      [out, r.dOut],
      [match, r.dMatch],
      [mismatch, r.dMismatch],
    ]);
  });
}

test("the generator's loss and its gradients match finite differences", (t) => {
  const r = 5;
  const E = 3;
  const out = randomUniform(r * (1 + E), 4, -2, 2);
  const emb = randomUniform(r * E, 5);
  const g = generatorLoss(out, emb, r, E);
  let want = 0;
  for (let i = 0; i < r; i++) {
    let l = out[i * (1 + E)]!;
    for (let c = 0; c < E; c++) l += out[i * (1 + E) + 1 + c]! * emb[i * E + c]!;
    want += Math.log1p(Math.exp(-l)) / r;
  }
  t.true(Math.abs(g.loss - want) < 1e-9);
  checkGradients(t, () => generatorLoss(out, emb, r, E).loss, [
    [out, g.dOut],
    [emb, g.dEmb],
  ]);
});

test("the caption encoder sums position embeddings, and its gradient is exact", (t) => {
  const enc = new TokenEmbedding("text", 3, 5, 2, { seed: 1, stream: 1 });
  enc.b.set([0.5, -0.5]);
  const ids = Int32Array.of(1, 0, 4, 2, 2, 2);
  const e = enc.forward(ids);
  const row = (r: number, c: number) => enc.b[c]! + [0, 1, 2].reduce((s, i) => s + enc.table[(i * 5 + ids[r * 3 + i]!) * 2 + c]!, 0);
  for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) t.true(Math.abs(e[r * 2 + c]! - row(r, c)) < 1e-6);
  // The loss sum(w . e) has gradient w for each row's tokens and the bias.
  const w = Float32Array.of(1, 2, 3, 4);
  enc.backward(ids, w);
  t.deepEqual(Array.from(enc.db), [4, 6]);
  // Row 1 uses token 2 at every position: position 1's row 2 gets only row 1's gradient.
  t.deepEqual(Array.from(enc.dtable.subarray((1 * 5 + 2) * 2, (1 * 5 + 2) * 2 + 2)), [3, 4]);
  t.deepEqual(Array.from(enc.dtable.subarray((0 * 5 + 1) * 2, (0 * 5 + 1) * 2 + 2)), [1, 2]);
  t.throws(() => enc.forward(Int32Array.of(1, 2)), { message: /not rows of 3/ });
  t.throws(() => enc.forward(Int32Array.of(1, 2, 5)), { message: /outside the vocabulary of 5/ });
});

test("the nonlinear caption encoder's gradients match finite differences", (t) => {
  const k = getKernels("js");
  const enc = new CaptionEncoder("text", 3, 4, 5, 2, { seed: 2, stream: 1 });
  enc.embedding.b.set(randomUniform(5, 9, -0.3, 0.3));
  const ids = Int32Array.of(1, 0, 3, 2, 2, 1);
  const w = randomUniform(4, 10);
  // loss = sum(w . e): de = w
  const loss = () => enc.forward(k, ids).reduce((s, v, i) => s + v * w[i]!, 0);
  loss();
  enc.backward(k, ids, w);
  const grads = enc.grads();
  const pairs: [Float32Array, Float32Array][] = Object.entries(enc.params()).map(([name, p]) => [p, grads[name]!.slice()]);
  checkGradients(t, loss, pairs, 1e-3, 2e-3);
});
