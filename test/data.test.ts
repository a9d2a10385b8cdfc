import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import test from "ava";

import { epochBatches, permutation, splitValidation } from "../lib/data/batching.js";
import { binarize, makeDataset } from "../lib/data/dataset.js";
import { encodeIdxImages, encodeIdxLabels, idxDataset, readIdx, readIdxBytes } from "../lib/data/idx.js";
import { DeepgenError } from "../lib/core/errors.js";
import { canonicalSplit } from "../lib/data/mnist.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-data-"));

test("canonical split matches the published check values", (t) => {
  const { train, test: testSet } = canonicalSplit({ binarized: true });
  t.is(train.n, 8004);
  t.is(testSet.n, 1996);
  const ones = (x: Float32Array) => x.reduce((a, v) => a + v, 0);
  t.is(ones(train.x), 830967);
  t.is(ones(testSet.x), 208762);
  const sha = (x: Float32Array) => createHash("sha256").update(Uint8Array.from(x)).digest("hex");
  t.true(sha(train.x).startsWith("6f46c444d7d9cdb1"));
  t.true(sha(testSet.x).startsWith("af2d0b6aeaa275d4"));
  t.is(testSet.labels![0], 0);
  t.is(testSet.labels![testSet.n - 1], 9);
});

test("grayscale split keeps values in [0, 1] with the same sizes", (t) => {
  const { train } = canonicalSplit();
  t.is(train.n, 8004);
  t.true(train.x.every((v) => v >= 0 && v <= 1));
  t.true(train.x.some((v) => v > 0 && v < 1));
});

test("IDX round trip, gzip, and clear errors on bad files", (t) => {
  const x = new Float32Array(3 * 4).map((_, i) => (i % 5) / 4);
  const d = makeDataset(x, Uint8Array.from([1, 2, 3]), 2, 2);
  const img = join(dir, "img.idx");
  const lab = join(dir, "lab.idx.gz");
  writeFileSync(img, encodeIdxImages(d));
  writeFileSync(lab, gzipSync(encodeIdxLabels(d.labels!)));
  const back = readIdx(img, lab);
  t.is(back.n, 3);
  t.deepEqual([back.height, back.width], [2, 2]);
  t.deepEqual([...back.labels!], [1, 2, 3]);
  t.true(back.x.every((v, i) => Math.abs(v - x[i]!) < 1 / 255));
  const bad = join(dir, "bad.idx");
  writeFileSync(bad, encodeIdxLabels(Uint8Array.from([1])));
  t.regex(t.throws(() => readIdx(bad))!.message, /magic number 0x00000801, expected 0x00000803/);
  const truncated = join(dir, "trunc.idx");
  writeFileSync(truncated, encodeIdxImages(d).subarray(0, 20));
  t.regex(t.throws(() => readIdx(truncated))!.message, /header says 3x2x2 = 12 bytes of data, the file has 4/);
  const fewLabels = join(dir, "few.idx");
  writeFileSync(fewLabels, encodeIdxLabels(Uint8Array.from([1, 2])));
  t.regex(t.throws(() => readIdx(img, fewLabels))!.message, /2 labels for 3 images/);
  t.is((t.throws(() => readIdx(join(dir, "missing.idx"))) as { code?: string }).code, "E_IO");
});

test("batches: a seeded permutation per epoch, reproducible, covering every example once", (t) => {
  const a = epochBatches(103, 10, 7, 1);
  const b = epochBatches(103, 10, 7, 1);
  t.deepEqual(a, b);
  t.is(a.length, 11);
  t.is(a.at(-1)!.length, 3);
  const seen = new Set(a.flatMap((x) => [...x]));
  t.is(seen.size, 103);
  t.notDeepEqual(epochBatches(103, 10, 7, 2), a);
  t.notDeepEqual(permutation(50, 8, 1), permutation(50, 7, 1));
});

test("validation is carved out of train only, disjoint and seeded", (t) => {
  const x = Float32Array.from({ length: 100 * 4 }, (_, i) => Math.floor(i / 4));
  const d = makeDataset(x, undefined, 2, 2);
  const s = splitValidation(d, 0.2, 3);
  t.is(s.validation.n, 20);
  t.is(s.train.n, 80);
  const ids = (ds: typeof d) => new Set(Array.from({ length: ds.n }, (_, i) => ds.x[i * 4]!));
  const v = ids(s.validation);
  t.true([...ids(s.train)].every((id) => !v.has(id)));
  t.deepEqual(splitValidation(d, 0.2, 3).validation.x, s.validation.x);
  t.is((t.throws(() => splitValidation(d, 1.5, 3)) as { code?: string }).code, "E_ARG");
});

test("an IDX file with no images is E_ARG, not a mean over nothing", (t) => {
  const empty = join(dir, "empty.idx");
  writeFileSync(empty, encodeIdxImages(makeDataset(new Float32Array(0), undefined, 28, 28)));
  const err = t.throws(() => readIdx(empty), { instanceOf: DeepgenError });
  t.is(err!.code, "E_ARG");
  t.regex(err!.message, /holds no images/);
});

test("IDX inputs past the size cap are refused before allocation, raw or gzipped", (t) => {
  const d = makeDataset(new Float32Array(50 * 28 * 28), undefined, 28, 28);
  const raw = join(dir, "cap.idx");
  writeFileSync(raw, encodeIdxImages(d));
  const gz = join(dir, "cap.idx.gz");
  writeFileSync(gz, gzipSync(encodeIdxImages(d)));
  t.is(readIdx(raw, undefined, { maxBytes: 50 * 784 }).n, 50);
  for (const path of [raw, gz]) {
    const err = t.throws(() => readIdx(path, undefined, { maxBytes: 10_000 }), { instanceOf: DeepgenError });
    t.is(err!.code, "E_ARG", path);
    t.regex(err!.message, /over the cap of 10000 bytes .*DEEPGEN_MAX_IDX_MB/, path);
  }
  const old = process.env["DEEPGEN_MAX_IDX_MB"];
  try {
    process.env["DEEPGEN_MAX_IDX_MB"] = "0.01";
    t.is(t.throws(() => readIdx(gz), { instanceOf: DeepgenError })!.code, "E_ARG");
    process.env["DEEPGEN_MAX_IDX_MB"] = "lots";
    t.regex(t.throws(() => readIdx(gz), { instanceOf: DeepgenError })!.message, /DEEPGEN_MAX_IDX_MB must be a positive number/);
  } finally {
    if (old === undefined) delete process.env["DEEPGEN_MAX_IDX_MB"];
    else process.env["DEEPGEN_MAX_IDX_MB"] = old;
  }
});

test("IDX bytes binarized in one pass equal the canonical binarization of the grayscale images", (t) => {
  const x = Float32Array.from({ length: 256 * 4 }, (_, i) => (i % 256) / 255);
  const path = join(dir, "ramp.idx");
  writeFileSync(path, encodeIdxImages(makeDataset(x, undefined, 2, 2)));
  const bytes = readIdxBytes(path);
  t.deepEqual(idxDataset(bytes, "binary").x, binarize(idxDataset(bytes, "grayscale")).x);
  t.deepEqual(idxDataset(bytes, "grayscale").x, readIdx(path).x);
});
