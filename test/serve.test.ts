/** Every endpoint of a real server on port 0, over fetch. */
import test from "ava";
import { PNG } from "pngjs";

import { encodePng, imageGrid } from "../lib/io/png.js";
import type { Nade } from "../lib/models/nade.js";
import type { PixelRnn } from "../lib/models/pixelrnn.js";
import type { Vae } from "../lib/models/vae.js";
import { createServer, type DeepgenServer } from "../lib/serve/server.js";
import { parseNpy, post, startServer } from "./serve-helpers.js";

let app: DeepgenServer;
let url: string;

test.before(async () => {
  ({ app, url } = await startServer({ adminToken: "s3cret", maxN: 16, maxK: 50, bodyLimit: 64 << 10 }));
});
test.after.always(async () => {
  await app?.close();
});

const zeros = (n: number) => Array.from({ length: n }, () => new Array(64).fill(0));

test("GET /v1/models lists every model with kind, parameters, shape and routes", async (t) => {
  const r = await fetch(`${url}/v1/models`);
  t.is(r.status, 200);
  const { models } = (await r.json()) as { models: Record<string, unknown>[] };
  const byName = Object.fromEntries(models.map((m) => [m["name"], m]));
  t.deepEqual(Object.keys(byName).sort(), ["aae", "bernoulli", "gan", "markov", "nade", "rnade", "rowlstm", "vae"]);
  const nade = app.deepgen.get("nade")!.model as Nade;
  t.like(byName["nade"], {
    kind: "nade",
    parameters: nade.paramCount(),
    dim: 64,
    height: 8,
    width: 8,
    routes: ["sample", "logprob", "complete"],
  });
  t.like(byName["gan"], { kind: "gan", routes: ["sample"], codes: 3 });
  t.like(byName["vae"], { routes: ["sample", "logprob"] });
  t.like(byName["rowlstm"], { routes: ["sample", "logprob", "complete"] });
  const one = await fetch(`${url}/v1/models/rnade`);
  t.like(await one.json(), { name: "rnade", kind: "rnade" });
  t.is((await fetch(`${url}/v1/models/nope`)).status, 404);
});

test("sample: json rows, npy [n, h, w] and png agree with the model's own sample()", async (t) => {
  const nade = app.deepgen.get("nade")!.model as Nade;
  const lone = await nade.sample(4, { seed: 11 });
  const j = await post(`${url}/v1/models/nade/sample`, { n: 4, seed: 11, format: "json" });
  t.is(j.status, 200);
  t.is(j.headers.get("x-deepgen-seed"), "11");
  const body = (await j.json()) as { x: number[][]; seed: number; n: number; height: number };
  t.like(body, { seed: 11, n: 4, height: 8 });
  t.deepEqual(new Float32Array(body.x.flat()), lone.x);

  const npy = await post(`${url}/v1/models/nade/sample`, { n: 4, seed: 11, format: "npy" });
  const { shape, data } = parseNpy(await npy.arrayBuffer());
  t.deepEqual(shape, [4, 8, 8]);
  t.deepEqual(data, lone.x);

  const png = await post(`${url}/v1/models/nade/sample`, { n: 4, seed: 11 });
  t.is(png.headers.get("content-type"), "image/png");
  t.true(Buffer.from(await png.arrayBuffer()).equals(Buffer.from(encodePng(imageGrid(lone.x, { n: 4, height: 8, width: 8 })))));
  const single = PNG.sync.read(Buffer.from(await (await post(`${url}/v1/models/nade/sample`, { n: 1, seed: 3 })).arrayBuffer()));
  t.deepEqual([single.width, single.height], [8, 8]);
});

test("sample without a seed picks one and says which; a seed past 2^53 travels as a string", async (t) => {
  const r = await post(`${url}/v1/models/bernoulli/sample`, { n: 2, format: "json" });
  const body = (await r.json()) as { seed: number; x: number[][] };
  t.regex(r.headers.get("x-deepgen-seed") ?? "", /^\d+$/);
  t.is(String(body.seed), r.headers.get("x-deepgen-seed") ?? "");
  const again = (await (await post(`${url}/v1/models/bernoulli/sample`, { n: 2, format: "json", seed: body.seed })).json()) as typeof body;
  t.deepEqual(again.x, body.x);

  const big = "18446744073709551615";
  const b = await post(`${url}/v1/models/nade/sample`, { n: 1, seed: big, format: "npy" });
  t.is(b.headers.get("x-deepgen-seed"), big);
  const nade = app.deepgen.get("nade")!.model as Nade;
  t.deepEqual(parseNpy(await b.arrayBuffer()).data, (await nade.sample(1, { seed: 2n ** 64n - 1n })).x);
  t.is((await post(`${url}/v1/models/nade/sample`, { n: 1, seed: "18446744073709551616" })).status, 400);
  t.is((await post(`${url}/v1/models/nade/sample`, { n: 1, seed: -1 })).status, 400);
});

test("logprob: JSON rows of several requests, and a PNG body, give the model's log p(x)", async (t) => {
  const nade = app.deepgen.get("nade")!.model as Nade;
  const x = zeros(3).map((row, i) => row.map((_, j) => ((i + j) % 3 === 0 ? 1 : 0)));
  const r = await post(`${url}/v1/models/nade/logprob`, { x });
  t.is(r.status, 200);
  const body = (await r.json()) as { logprob: number[]; unit: string };
  t.is(body.unit, "nats");
  t.deepEqual(new Float32Array(body.logprob), await nade.logProb(new Float32Array(x.flat())));

  const png = encodePng(imageGrid(new Float32Array(x[0]!), { n: 1, height: 8, width: 8, pad: 0 }));
  const p = await fetch(`${url}/v1/models/nade/logprob`, { method: "POST", headers: { "content-type": "image/png" }, body: png });
  t.is(p.status, 200);
  t.is(((await p.json()) as { logprob: number[] }).logprob[0], body.logprob[0]);
  const wrongSize = encodePng(imageGrid(new Float32Array(16), { n: 1, height: 4, width: 4, pad: 0 }));
  const w = await fetch(`${url}/v1/models/nade/logprob`, { method: "POST", headers: { "content-type": "image/png" }, body: wrongSize });
  t.is(w.status, 400);
  t.regex(await w.text(), /8x8/);
});

test("logprob of a VAE is its IWAE bound with the request's k and seed; other models refuse k", async (t) => {
  const vae = app.deepgen.get("vae")!.model as Vae;
  const x = zeros(2);
  const r = await post(`${url}/v1/models/vae/logprob`, { x, k: 20, seed: 4 });
  t.is(r.status, 200);
  const body = (await r.json()) as { logprob: number[]; k: number; bound: string };
  t.like(body, { k: 20, bound: "iwae" });
  t.deepEqual(new Float32Array(body.logprob), await vae.logLikelihood(new Float32Array(x.flat()), { k: 20, seed: 4 }));
  const tooMany = await post(`${url}/v1/models/vae/logprob`, { x, k: 51 });
  t.is(tooMany.status, 413);
  t.regex(await tooMany.text(), /maxK/);
  t.is((await post(`${url}/v1/models/nade/logprob`, { x, k: 5 })).status, 400);
  t.is((await post(`${url}/v1/models/gan/logprob`, { x })).status, 400);
  t.is((await post(`${url}/v1/models/nade/logprob`, { x: [[0, 1]] })).status, 400);
  t.is((await post(`${url}/v1/models/nade/logprob`, { x: [new Array(64).fill(0.5)] })).status, 400);
});

test("complete: NADE keeps the known top rows and draws the rest exactly as Nade.complete", async (t) => {
  const nade = app.deepgen.get("nade")!.model as Nade;
  const x = zeros(2).map((row) => row.map((_, j) => (j % 2 === 0 ? 1 : 0)));
  const r = await post(`${url}/v1/models/nade/complete`, { x, rows: 3, seed: 8, format: "npy" });
  t.is(r.status, 200);
  const got = parseNpy(await r.arrayBuffer()).data;
  t.deepEqual(got, (await nade.complete(new Float32Array(x.flat()), { known: 24, seed: 8 })).x);
  t.deepEqual(Array.from(got.subarray(0, 24)), x[0]!.slice(0, 24));
  t.is((await post(`${url}/v1/models/nade/complete`, { x, rows: 9 })).status, 400);
  t.is((await post(`${url}/v1/models/rnade/complete`, { x, rows: 1 })).status, 400);
});

test("complete: a PixelRNN keeps the known top rows and draws the rest exactly as PixelRnn.complete", async (t) => {
  const rnn = app.deepgen.get("rowlstm")!.model as PixelRnn;
  const x = zeros(2).map((row) => row.map((_, j) => (j % 3 === 0 ? 1 : 0)));
  const r = await post(`${url}/v1/models/rowlstm/complete`, { x, rows: 2, seed: 5, format: "npy" });
  t.is(r.status, 200);
  const got = parseNpy(await r.arrayBuffer()).data;
  t.deepEqual(got, (await rnn.complete(new Float32Array(x.flat()), { known: 16, seed: 5 })).x);
  t.deepEqual(Array.from(got.subarray(64, 80)), x[1]!.slice(0, 16));
});

test("bad requests are 4xx naming the problem: schema, unknown fields, limits, bad JSON, media type", async (t) => {
  const cases: [unknown, number, RegExp][] = [
    [{ n: 1, extra: true }, 400, /additional properties: 'extra'/],
    [{ n: "2" }, 400, /integer/],
    [{ n: 0 }, 400, /n/],
    [{ n: 17 }, 413, /maxN/],
    [{ n: 1, format: "gif" }, 400, /format/],
    [{ n: 1, code: 0 }, 400, /no code/],
  ];
  for (const [body, status, message] of cases) {
    const r = await post(`${url}/v1/models/nade/sample`, body);
    t.is(r.status, status, JSON.stringify(body));
    const e = (await r.json()) as { error: { code: string; message: string } };
    t.regex(e.error.message, message);
  }
  t.is((await post(`${url}/v1/models/gan/sample`, { n: 1, code: 3 })).status, 400);
  const badJson = await fetch(`${url}/v1/models/nade/sample`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{",
  });
  t.is(badJson.status, 400);
  t.like(await badJson.json(), { error: { code: "E_FORMAT" } });
  const big = await post(`${url}/v1/models/nade/logprob`, { x: zeros(16), pad: "x".repeat(70_000) });
  t.is(big.status, 413);
  t.like(await big.json(), { error: { code: "E_LIMIT", message: "the body exceeds this server's limit of 65536 bytes (bodyLimit)" } });
  const media = await fetch(`${url}/v1/models/nade/sample`, {
    method: "POST",
    headers: { "content-type": "application/xml" },
    body: "<n>1</n>",
  });
  t.is(media.status, 415);
  t.like(await media.json(), { error: { code: "E_MEDIA" } });
  t.is((await fetch(`${url}/v1/models?x=1`)).status, 400);
  t.is((await post(`${url}/v1/models/missing/sample`, { n: 1 })).status, 404);
});

test("health: live and ready answer 200 on a loaded server", async (t) => {
  t.is((await fetch(`${url}/health/live`)).status, 200);
  const ready = await fetch(`${url}/health/ready`);
  t.is(ready.status, 200);
  t.like(await ready.json(), { status: "ready", models: 8 });
});

test("metrics: requests by model, route and status; queue and batch histograms", async (t) => {
  await post(`${url}/v1/models/markov/sample`, { n: 3, format: "json" });
  await post(`${url}/v1/models/markov/sample`, { n: 99 });
  const text = await (await fetch(`${url}/metrics`)).text();
  t.regex(text, /deepgen_http_requests_total\{model="markov",route="\/v1\/models\/:name\/sample",status="200"\} [1-9]/);
  t.regex(text, /deepgen_http_requests_total\{model="markov",route="\/v1\/models\/:name\/sample",status="413"\} 1/);
  t.regex(text, /deepgen_queue_depth\{model="markov"\} 0/);
  t.regex(text, /deepgen_queue_seconds_count\{model="markov"\} [1-9]/);
  t.regex(text, /deepgen_compute_seconds_count\{model="markov",kind="sample"\} [1-9]/);
  t.regex(text, /deepgen_batch_rows_sum\{model="markov",kind="sample"\} [3-9]/);
  t.regex(text, /deepgen_batch_requests_bucket\{le="1",model="markov",kind="sample"\}/);
});

test("POST /admin/reload needs the bearer token", async (t) => {
  t.is((await fetch(`${url}/admin/reload`, { method: "POST" })).status, 401);
  t.is((await fetch(`${url}/admin/reload`, { method: "POST", headers: { authorization: "Bearer wrong!" } })).status, 401);
  const ok = await fetch(`${url}/admin/reload`, { method: "POST", headers: { authorization: "Bearer s3cret" } });
  t.is(ok.status, 200);
  t.is(((await ok.json()) as { loaded: string[] }).loaded.length, 8);
});

test("no admin route without a token", async (t) => {
  const { app: other, url: otherUrl } = await startServer({ adminToken: "" });
  t.teardown(() => other.close());
  t.is((await fetch(`${otherUrl}/admin/reload`, { method: "POST" })).status, 404);
});

test("the plugin mounts under a prefix in an existing Fastify app, and closing the app drains it", async (t) => {
  const { default: Fastify } = await import("fastify");
  const { deepgenPlugin } = await import("../lib/serve/plugin.js");
  const host = Fastify();
  host.get("/", async () => ({ app: "host" }));
  await host.register(deepgenPlugin, { prefix: "/gen", serve: { models: { names: ["nade"] }, processMetrics: false, maxDelayMs: 150 } });
  const base = await host.listen({ port: 0, host: "127.0.0.1" });
  for (let i = 0; i < 100 && (await fetch(`${base}/gen/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  t.like(await (await fetch(`${base}/`)).json(), { app: "host" });
  const pending = post(`${base}/gen/v1/models/nade/sample`, { n: 1, seed: 2, format: "json" });
  await new Promise((r) => setTimeout(r, 30));
  const closing = host.close();
  t.is((await pending).status, 200);
  await closing;
});

test("a PNG body that claims a huge image is refused from its header, before decoding", async (t) => {
  const png = Buffer.from(encodePng(imageGrid(new Float32Array(64), { n: 1, height: 8, width: 8, pad: 0 })));
  png.writeUInt32BE(100_000, 16);
  png.writeUInt32BE(100_000, 20);
  const r = await fetch(`${url}/v1/models/nade/logprob`, { method: "POST", headers: { "content-type": "image/png" }, body: png });
  t.is(r.status, 400);
  t.regex(await r.text(), /100000x100000/);
  const notPng = await fetch(`${url}/v1/models/nade/logprob`, { method: "POST", headers: { "content-type": "image/png" }, body: "GIF89a" });
  t.is(notPng.status, 400);
});

test("createServer is exported from the package root and, with deepgenPlugin, from deepgen/serve (docs/serving.md imports them so)", async (t) => {
  const root = (await import("../lib/index.js")) as Record<string, unknown>;
  const serve = (await import("../lib/api/serve.js")) as Record<string, unknown>;
  t.is(root["createServer"], createServer);
  t.is(serve["createServer"], createServer);
  t.is(typeof serve["deepgenPlugin"], "function");
});
