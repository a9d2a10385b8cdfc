/** Backpressure, timeouts, disconnects, reloads, overload and fuzzed input against a real server. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";
import fc from "fast-check";

import { Nade } from "../lib/models/nade.js";
import { createServer } from "../lib/serve/server.js";
import { parseNpy, post, startServer } from "./serve-helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(url: string, pattern: RegExp): Promise<number> {
  const m = pattern.exec(await (await fetch(`${url}/metrics`)).text());
  return m === null ? 0 : Number(m[1]);
}

test.serial("a full queue answers 503 with Retry-After at once", async (t) => {
  const { app, url } = await startServer({ maxQueue: 2, maxDelayMs: 300 });
  t.teardown(() => app.close());
  const queued = [post(`${url}/v1/models/nade/sample`, { n: 1, seed: 1 }), post(`${url}/v1/models/nade/sample`, { n: 1, seed: 2 })];
  await sleep(50);
  const t0 = performance.now();
  const refused = await post(`${url}/v1/models/nade/sample`, { n: 1, seed: 3 });
  t.is(refused.status, 503);
  t.true(performance.now() - t0 < 250, "refused without waiting for the batch");
  t.is(refused.headers.get("retry-after"), "1");
  t.like(await refused.json(), { error: { code: "E_QUEUE_FULL" } });
  t.deepEqual(
    (await Promise.all(queued)).map((r) => r.status),
    [200, 200],
  );
});

test.serial("a request queued past timeoutMs answers 504", async (t) => {
  const { app, url } = await startServer({ timeoutMs: 20, maxDelayMs: 300 });
  t.teardown(() => app.close());
  const r = await post(`${url}/v1/models/nade/sample`, { n: 1 });
  t.is(r.status, 504);
  t.like(await r.json(), { error: { code: "E_TIMEOUT" } });
});

test.serial("a client that disconnects while queued is dropped from the queue: no batch runs for it", async (t) => {
  const { app, url } = await startServer({ maxDelayMs: 300 });
  t.teardown(() => app.close());
  const { port } = new URL(url);
  await new Promise<void>((resolve) => {
    const body = JSON.stringify({ n: 1, seed: 1 });
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/v1/models/nade/sample",
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    req.on("error", () => resolve());
    req.end(body);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 60);
  });
  await sleep(80);
  t.is(app.deepgen.get("nade")!.batcher.depth, 0, "the queue is empty right after the disconnect");
  await sleep(400);
  t.is(await metric(url, /deepgen_batch_requests_count\{model="nade",kind="sample"\} (\d+)/), 0);
  t.is(await metric(url, /deepgen_http_requests_total\{model="nade",route="\/v1\/models\/:name\/sample",status="499"\} (\d+)/), 1);
});

test.serial("reload picks up new and changed files; a file that fails to load keeps the loaded model", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "deepgen-serve-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = Nade.create({ dim: 16, hidden: 4, initSeed: 1 });
  await first.save(join(dir, "a.safetensors"));
  const app = createServer({ models: { dir }, logLevel: "silent", processMetrics: false, adminToken: "tok" });
  t.teardown(() => app.close());
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  await app.deepgen.loaded;
  const sampleA = async () =>
    parseNpy(await (await post(`${url}/v1/models/a/sample`, { n: 2, seed: 9, format: "npy" })).arrayBuffer()).data;
  const before = await sampleA();
  t.deepEqual(before, (await first.sample(2, { seed: 9 })).x);

  await writeFile(join(dir, "a.safetensors"), "not a model");
  await Nade.create({ dim: 16, hidden: 4, initSeed: 2 }).save(join(dir, "b.safetensors"));
  const reload = await fetch(`${url}/admin/reload`, { method: "POST", headers: { authorization: "Bearer tok" } });
  const report = (await reload.json()) as { loaded: string[]; failed: { name: string; error: string }[] };
  t.deepEqual(report.loaded, ["b"]);
  t.deepEqual(
    report.failed.map((f) => f.name),
    ["a"],
  );
  t.deepEqual(await sampleA(), before, "a still serves its old weights");
  t.is((await post(`${url}/v1/models/b/sample`, { n: 1 })).status, 200);

  const second = Nade.create({ dim: 16, hidden: 4, initSeed: 3 });
  await second.save(join(dir, "a.safetensors"));
  await app.deepgen.reload();
  t.deepEqual(await sampleA(), (await second.sample(2, { seed: 9 })).x, "a now serves the new file");
});

test.serial("readiness is 503 while the models load and while draining; close() finishes queued work", async (t) => {
  const app = createServer({ models: { names: ["nade"] }, logLevel: "silent", processMetrics: false, maxDelayMs: 200 });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const [early, earlySample] = await Promise.all([fetch(`${url}/health/ready`), post(`${url}/v1/models/nade/sample`, { n: 1 })]);
  t.is(early.status, 503, "not ready before the model is in");
  t.is(earlySample.status, 503, "a model that is still loading is not a 404");
  t.is((await fetch(`${url}/health/live`)).status, 200);
  await app.deepgen.loaded;
  t.is((await fetch(`${url}/health/ready`)).status, 200);
  const inFlight = post(`${url}/v1/models/nade/sample`, { n: 2, seed: 1, format: "json" });
  await sleep(50);
  const closing = app.close();
  await sleep(10);
  t.true(app.deepgen.draining);
  t.is((await fetch(`${url}/health/ready`).catch(() => undefined))?.status ?? 503, 503);
  const r = await inFlight;
  t.is(r.status, 200, "queued work finishes during the drain");
  await closing;
});

test.serial("overload: 64 concurrent clients against maxQueue 8 get only 200, 503 and 504, and every 200 is exact", async (t) => {
  const { app, url } = await startServer({ maxQueue: 8, maxBatch: 16, maxDelayMs: 2, timeoutMs: 200 });
  t.teardown(() => app.close());
  const nade = app.deepgen.get("nade")!.model as Nade;
  const statuses = new Map<number, number>();
  const checks: Promise<void>[] = [];
  let seed = 0;
  const stopAt = performance.now() + 2000;
  const client = async () => {
    while (performance.now() < stopAt) {
      const s = seed++;
      const n = 1 + (s % 4);
      const r = await post(`${url}/v1/models/nade/sample`, { n, seed: s, format: "npy" });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const buf = await r.arrayBuffer();
      if (r.status === 200)
        checks.push(
          nade.sample(n, { seed: s }).then((lone) => {
            if (!Buffer.from(parseNpy(buf).data.buffer).equals(Buffer.from(lone.x.buffer))) t.fail(`seed ${s} differs`);
          }),
        );
    }
  };
  await Promise.all(Array.from({ length: 64 }, client));
  await Promise.all(checks);
  t.log(Object.fromEntries(statuses));
  t.deepEqual(
    [...statuses.keys()].filter((s) => ![200, 503, 504].includes(s)),
    [],
  );
  t.true((statuses.get(200) ?? 0) > 0);
  t.true((statuses.get(503) ?? 0) > 0, "64 clients overflow a queue of 8");
  t.is((await fetch(`${url}/health/live`)).status, 200);
});

test.serial("fuzz: generated requests get only 2xx or 4xx, and the server still serves after", async (t) => {
  const { app, url } = await startServer({ maxN: 8, bodyLimit: 32 << 10 });
  t.teardown(() => app.close());
  const route = fc.constantFrom("sample", "logprob", "complete", "nope");
  const model = fc.constantFrom("nade", "vae", "gan", "rnade", "missing", "%2e%2e", "a".repeat(300));
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        n: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.double(), fc.string()),
        seed: fc.oneof(fc.integer(), fc.string(), fc.bigInt({ min: 0n, max: 2n ** 66n }).map(String)),
        format: fc.oneof(fc.constantFrom("png", "json", "npy"), fc.string()),
        code: fc.integer({ min: -1, max: 5 }),
        x: fc.array(fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double()), { maxLength: 70 }), { maxLength: 3 }),
        rows: fc.integer({ min: -1, max: 10 }),
        k: fc.integer({ min: -1, max: 100 }),
      },
      { requiredKeys: [] },
    ),
  );
  const contentType = fc.constantFrom("application/json", "image/png", "text/plain", "application/octet-stream");
  // A query string and an extra header of arbitrary printable text (both ignored or refused).
  const query = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 3 });
  const header = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
  // DEEPGEN_SERVE_FUZZ_RUNS sets the count (CI runs the default; docs/serving.md gives a long run).
  const numRuns = Number(process.env["DEEPGEN_SERVE_FUZZ_RUNS"] ?? 300);
  await fc.assert(
    fc.asyncProperty(route, model, body, contentType, query, header, async (r, m, b, ct, q, h) => {
      const raw = ct === "application/json" ? JSON.stringify(b) : Buffer.from(JSON.stringify(b) ?? "");
      const qs = new URLSearchParams(q).toString();
      const res = await fetch(`${url}/v1/models/${m}/${r}${qs ? `?${qs}` : ""}`, {
        method: "POST",
        headers: { "content-type": ct, accept: h, "x-fuzz": h },
        body: raw,
      });
      await res.arrayBuffer();
      return res.status < 500;
    }),
    { numRuns },
  );
  const ok = await post(`${url}/v1/models/nade/sample`, { n: 2, seed: 1, format: "json" });
  t.is(ok.status, 200);
});
