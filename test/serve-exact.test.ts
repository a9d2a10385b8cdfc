/**
 * Batching never changes an answer: requests that the server coalesced into one batch each get
 * bit for bit the samples of a lone sample() call, for every kind of model.
 */
import test from "ava";

import type { Gan } from "../lib/models/gan.js";
import type { SampleRequest } from "../lib/models/batch.js";
import { parseNpy, post, startServer } from "./serve-helpers.js";

test("coalesced sample requests equal lone samples for every model kind", async (t) => {
  // A long delay and a roomy batch: the concurrent requests of each model share one batch.
  const { app, url } = await startServer({ maxBatch: 64, maxDelayMs: 150 });
  t.teardown(() => app.close());
  for (const served of app.deepgen.list()) {
    const model = served.model;
    const codes = (model as Partial<Gan>).codes ?? 0;
    const requests: SampleRequest[] = [
      { n: 1, seed: 1 },
      { n: 3, seed: 2 },
      { n: 2, seed: 2n ** 60n + 7n },
      codes > 0 ? { n: 2, seed: 5, code: 2 } : { n: 2, seed: 5 },
    ];
    const answers = await Promise.all(
      requests.map((r) =>
        post(`${url}/v1/models/${served.name}/sample`, {
          n: r.n,
          seed: r.seed.toString(),
          format: "npy",
          ...(r.code === undefined ? {} : { code: r.code }),
        }),
      ),
    );
    for (const [i, r] of requests.entries()) {
      t.is(answers[i]!.status, 200, `${served.name} request ${i}`);
      const got = parseNpy(await answers[i]!.arrayBuffer());
      t.deepEqual(got.shape, [r.n, served.height, served.width]);
      const lone = await (model as Gan).sample(r.n, { seed: r.seed, ...(r.code === undefined ? {} : { code: r.code }) });
      t.deepEqual(got.data, lone.x, `${served.name} request ${i} differs from its lone sample`);
    }
  }
  // The proof that they were batched: every model ran its four requests as one batch.
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const served of app.deepgen.list()) {
    t.regex(text, new RegExp(`deepgen_batch_requests_sum\\{model="${served.name}",kind="sample"\\} 4\\n`), served.name);
    t.regex(text, new RegExp(`deepgen_batch_requests_count\\{model="${served.name}",kind="sample"\\} 1\\n`), served.name);
  }
});

test("coalesced logprob requests equal lone logProb calls", async (t) => {
  const { app, url } = await startServer({ maxBatch: 64, maxDelayMs: 150 });
  t.teardown(() => app.close());
  const rows = (seed: number, n: number) =>
    Array.from({ length: n }, (_, i) => Array.from({ length: 64 }, (_, j) => ((i * 31 + j * seed) % 5 < 2 ? 1 : 0)));
  for (const name of ["nade", "rowlstm", "markov"]) {
    const model = app.deepgen.get(name)!.model as unknown as { logProb(x: Float32Array): Promise<Float32Array> };
    const inputs = [rows(3, 2), rows(7, 1), rows(11, 3)];
    const answers = await Promise.all(inputs.map((x) => post(`${url}/v1/models/${name}/logprob`, { x })));
    for (const [i, x] of inputs.entries()) {
      t.is(answers[i]!.status, 200);
      const got = new Float32Array(((await answers[i]!.json()) as { logprob: number[] }).logprob);
      t.deepEqual(got, await model.logProb(new Float32Array(x.flat())), `${name} request ${i}`);
    }
  }
  const text = await (await fetch(`${url}/metrics`)).text();
  t.regex(text, /deepgen_batch_rows_sum\{model="nade",kind="logprob"\} 6\n/);
  t.regex(text, /deepgen_batch_requests_count\{model="nade",kind="logprob"\} 1\n/);
});

test("one request's bad value fails only that request, not the batch it shares", async (t) => {
  const { app, url } = await startServer({ maxBatch: 64, maxDelayMs: 150 });
  t.teardown(() => app.close());
  const good = Array.from({ length: 64 }, (_, j) => j % 2);
  const bad = Array.from({ length: 64 }, () => 0.5);
  const [a, b] = await Promise.all([
    post(`${url}/v1/models/nade/logprob`, { x: [good] }),
    post(`${url}/v1/models/nade/logprob`, { x: [bad] }),
  ]);
  t.is(a.status, 200);
  t.is(b.status, 400);
});
