/** The dynamic batcher on its own: coalescing, delay, backpressure, timeouts, aborts. No HTTP. */
import test from "ava";

import { isDeepgenError } from "../lib/core/errors.js";
import { Batcher, type BatchRunner } from "../lib/serve/batcher.js";
import { ServeError } from "../lib/serve/errors.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A batcher whose one kind of work doubles numbers, recording every batch it ran. */
function doubling(opts: Partial<ConstructorParameters<typeof Batcher>[0]> = {}, work?: BatchRunner<number, number>) {
  const batches: number[][] = [];
  const run: BatchRunner<number, number> =
    work ??
    (async (ps) => {
      batches.push(ps);
      return ps.map((p) => 2 * p);
    });
  const b = new Batcher<number, number>({ maxBatch: 4, maxDelayMs: 20, maxQueue: 100, timeoutMs: 0, ...opts }, { double: run });
  return { b, batches };
}

test("requests that arrive together leave in one batch, each with its own answer", async (t) => {
  const { b, batches } = doubling();
  const out = await Promise.all([1, 2, 3].map((p) => b.submit("double", 1, p)));
  t.deepEqual(out, [2, 4, 6]);
  t.deepEqual(batches, [[1, 2, 3]]);
});

test("a batch holds at most maxBatch rows; the rest go in the next one, in order", async (t) => {
  const { b, batches } = doubling({ maxBatch: 4 });
  await Promise.all([1, 2, 3, 4, 5, 6].map((p) => b.submit("double", 2, p)));
  t.deepEqual(batches, [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
});

test("a lone request waits maxDelayMs for company, no longer", async (t) => {
  const { b } = doubling({ maxDelayMs: 60 });
  const t0 = performance.now();
  await b.submit("double", 1, 1);
  const waited = performance.now() - t0;
  t.true(waited >= 55, `waited ${waited} ms`);
  t.true(waited < 1000, `waited ${waited} ms`);
});

test("a full queue refuses at once with 503 E_QUEUE_FULL", async (t) => {
  const { b } = doubling({ maxQueue: 2, maxDelayMs: 50, maxBatch: 100 });
  const first = [b.submit("double", 1, 1), b.submit("double", 1, 2)];
  const e = await t.throwsAsync(b.submit("double", 1, 3));
  t.true(e instanceof ServeError && e.statusCode === 503 && e.code === "E_QUEUE_FULL");
  t.deepEqual(await Promise.all(first), [2, 4]);
});

test("a request still queued after timeoutMs is answered 504 and never runs", async (t) => {
  const { b, batches } = doubling({ timeoutMs: 10, maxDelayMs: 80, maxBatch: 100 });
  const e = await t.throwsAsync(b.submit("double", 1, 7));
  t.true(e instanceof ServeError && e.statusCode === 504);
  await sleep(100);
  t.deepEqual(batches, []);
});

test("an aborted queued request leaves the queue; the others run without it", async (t) => {
  const { b, batches } = doubling({ maxDelayMs: 40 });
  const ac = new AbortController();
  const gone = b.submit("double", 1, 1, ac.signal);
  const kept = b.submit("double", 1, 2);
  ac.abort();
  const e = await t.throwsAsync(gone);
  t.true(isDeepgenError(e, "E_ABORTED"));
  t.is(b.depth, 1);
  t.is(await kept, 4);
  t.deepEqual(batches, [[2]]);
});

test("a running batch is aborted when its only caller goes, not while another caller waits for it", async (t) => {
  const signals: AbortSignal[] = [];
  const slow: BatchRunner<number, number> = (ps, signal) => {
    signals.push(signal);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(ps.map((p) => 2 * p)), 150);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("aborted"));
      });
    });
  };
  const { b } = doubling({ maxDelayMs: 0 }, slow);
  const alone = new AbortController();
  const p = b.submit("double", 1, 1, alone.signal);
  await sleep(30);
  alone.abort();
  t.true(isDeepgenError(await t.throwsAsync(p), "E_ABORTED"));
  t.true(signals[0]!.aborted);

  const { b: b2 } = doubling({ maxDelayMs: 20 }, slow);
  signals.length = 0;
  const leaver = new AbortController();
  const a = b2.submit("double", 1, 1, leaver.signal);
  const stay = b2.submit("double", 1, 2);
  await sleep(60);
  leaver.abort();
  t.true(isDeepgenError(await t.throwsAsync(a), "E_ABORTED"));
  t.is(await stay, 4);
  t.false(signals[0]!.aborted);
});

test("batches take one kind of work; another kind waits for its own batch", async (t) => {
  const seen: string[] = [];
  const record =
    (kind: string): BatchRunner<number, number> =>
    async (ps) => {
      seen.push(`${kind}:${ps.join(",")}`);
      return ps;
    };
  const b = new Batcher<number, number>({ maxBatch: 8, maxDelayMs: 10, maxQueue: 10, timeoutMs: 0 }, { a: record("a"), b: record("b") });
  await Promise.all([b.submit("a", 1, 1), b.submit("b", 1, 2), b.submit("a", 1, 3)]);
  t.deepEqual(seen, ["a:1,3", "b:2"]);
});

test("an Error in a runner's results fails that request alone; a thrown one fails the batch", async (t) => {
  const b = new Batcher<number, number>(
    { maxBatch: 8, maxDelayMs: 10, maxQueue: 10, timeoutMs: 0 },
    {
      one: async (ps) => ps.map((p) => (p < 0 ? new Error("negative") : p)),
      all: async () => {
        throw new Error("backend down");
      },
    },
  );
  const [ok, bad] = await Promise.allSettled([b.submit("one", 1, 1), b.submit("one", 1, -1)]);
  t.deepEqual(ok, { status: "fulfilled", value: 1 });
  t.is(bad.status, "rejected");
  const both = await Promise.allSettled([b.submit("all", 1, 1), b.submit("all", 1, 2)]);
  t.deepEqual(
    both.map((r) => r.status),
    ["rejected", "rejected"],
  );
});

test("idle() resolves once the queue is empty and nothing runs", async (t) => {
  const { b } = doubling({ maxDelayMs: 30 });
  const work = b.submit("double", 1, 1);
  t.true(b.busy);
  await b.idle();
  t.false(b.busy);
  t.is(await work, 2);
});
