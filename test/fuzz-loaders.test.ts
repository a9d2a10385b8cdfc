/**
 * Property runs over every TS-side parser of untrusted input: safetensors, IDX (raw and
 * gzipped), ONNX files and deepgen's ONNX metadata, and the CLI's number and seed options.
 * Inputs are random bytes and valid files with random damage (byte flips, truncation,
 * splices); each must parse to something self-consistent or throw a DeepgenError with an
 * input-error code, and no single input may take longer than a hang budget.
 *
 * CI runs a short budget; `DEEPGEN_FUZZ_RUNS=1000000 npx ava --timeout=3h test/fuzz-loaders.test.ts`
 * (see docs/hardening.md) is the long run.
 */
import { gzipSync } from "node:zlib";

import test from "ava";
import { InvalidArgumentError } from "commander";
import fc from "fast-check";

import { floatOption, intOption, seedOption } from "../lib/cli/common.js";
import { DeepgenError } from "../lib/core/errors.js";
import { makeDataset } from "../lib/data/dataset.js";
import { decodeIdx, encodeIdxImages, encodeIdxLabels } from "../lib/data/idx.js";
import { parseSafetensors, serializeSafetensors } from "../lib/io/safetensors.js";
import { Nade } from "../lib/models/nade.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { readDeepgenMetadata } from "../lib/onnx/metadata.js";
import { parseOnnx } from "../lib/onnx/model.js";

const RUNS = Number(process.env["DEEPGEN_FUZZ_RUNS"] ?? 1500);
/** One input taking more CPU time than this is a hang (CPU, not wall time: a busy machine stalls a test, not a parser). */
const HANG_MS = 2000;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Random damage to a valid file: flipped bytes, a truncation, or a spliced run of random bytes. */
function damaged(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const flips = fc
    .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
    .map((edits) => {
      const b = Uint8Array.from(valid);
      for (const [i, v] of edits) b[i] = v;
      return b;
    });
  const truncated = fc.nat(valid.length).map((n) => valid.slice(0, n));
  const spliced = fc.tuple(fc.nat(valid.length), fc.uint8Array({ maxLength: 64 })).map(([at, junk]) => {
    const b = new Uint8Array(valid.length + junk.length);
    b.set(valid.subarray(0, at));
    b.set(junk, at);
    b.set(valid.subarray(at), at + junk.length);
    return b;
  });
  return fc.oneof(flips, truncated, spliced);
}

/** Runs `parse` on every input: it returns (checked by `valid`) or throws a DeepgenError with one of `codes`. */
function fuzz<T>(
  t: { fail(m: string): void; pass(): void; log(...v: unknown[]): void },
  inputs: fc.Arbitrary<T>,
  parse: (input: T) => void,
  codes: readonly string[],
): void {
  let slowest = 0;
  let refused = 0;
  fc.assert(
    fc.property(inputs, (input) => {
      const t0 = cpuMs();
      try {
        parse(input);
      } catch (e) {
        if (!(e instanceof DeepgenError) || !codes.includes(e.code)) throw e;
        refused++;
      }
      const spent = cpuMs() - t0;
      slowest = Math.max(slowest, spent);
      if (spent > HANG_MS) throw new Error(`an input took ${spent.toFixed(0)} ms of CPU time`);
    }),
    { numRuns: RUNS },
  );
  t.log(`${RUNS} inputs, ${refused} refused, slowest ${slowest.toFixed(1)} ms of CPU time`);
  t.pass();
}

test("safetensors: random and damaged files parse consistently or are E_FORMAT", (t) => {
  const valid = Buffer.concat(
    [
      ...serializeSafetensors(
        { w: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, b: { shape: [3], data: Int32Array.from([7, 8, 9]) } },
        { "deepgen.model": "nade", "deepgen.config": '{"dim":3}' },
      ),
    ].map((c) => Buffer.from(c)),
  );
  fuzz(
    t,
    fc.oneof(fc.uint8Array({ maxLength: 256 }), damaged(new Uint8Array(valid))),
    (bytes) => {
      const contents = parseSafetensors(bytes);
      for (const [name, tensor] of contents.tensors) {
        const size = tensor.shape.reduce((a, b) => a * b, 1);
        if (tensor.data.length !== size) throw new Error(`tensor ${name}: ${tensor.data.length} values for shape [${tensor.shape}]`);
      }
    },
    ["E_FORMAT"],
  );
});

test("IDX: random and damaged files (raw and gzipped) decode consistently or are refused with a code", (t) => {
  const images = encodeIdxImages(
    makeDataset(
      Float32Array.from({ length: 3 * 16 }, (_, i) => (i % 7) / 6),
      undefined,
      4,
      4,
    ),
  );
  const labels = encodeIdxLabels(Uint8Array.from([1, 2, 3]));
  const inputs = fc.record({
    images: fc.oneof(fc.uint8Array({ maxLength: 128 }), damaged(images), damaged(new Uint8Array(gzipSync(images)))),
    labels: fc.option(fc.oneof(damaged(labels), fc.constant(labels)), { nil: undefined }),
  });
  fuzz(
    t,
    inputs,
    ({ images: img, labels: lab }) => {
      const d = decodeIdx(img, "fuzz.idx", {
        maxBytes: 1 << 20,
        labels: lab === undefined ? undefined : { bytes: lab, source: "fuzz-labels.idx" },
      });
      if (d.pixels.length !== d.n * d.rows * d.cols) throw new Error("pixel count does not match the header");
      if (d.labels !== undefined && d.labels.length !== d.n) throw new Error("label count does not match the images");
    },
    ["E_FORMAT", "E_ARG"],
  );
});

test("ONNX: random and damaged files are E_FORMAT, never another error", (t) => {
  const valid = exportOnnx(Nade.create({ dim: 4, hidden: 2, initSeed: 1 }), { graph: "density" });
  fuzz(t, fc.oneof(fc.uint8Array({ maxLength: 256 }), damaged(valid)), (bytes) => void parseOnnx(bytes, "fuzz.onnx"), ["E_FORMAT"]);
});

test("ONNX metadata: any deepgen.* properties are read or E_FORMAT", (t) => {
  const json = fc.oneof(
    fc.json(),
    fc.record({ draw: fc.string(), prior: fc.string(), stream: fc.oneof(fc.double(), fc.integer()) }).map((o) => JSON.stringify(o)),
    fc
      .record({ layout: fc.constantFrom("NCHW", "NHWC", "nchw", ""), range: fc.constantFrom("0,1", "-1,1", "0..1") })
      .map((o) => JSON.stringify(o)),
  );
  const props = fc.record(
    {
      "deepgen.model": fc.oneof(fc.constantFrom("gan", "vae", "nade", "aae"), fc.string()),
      "deepgen.graph": fc.oneof(fc.constantFrom("generator", "density", "encoder"), fc.string()),
      "deepgen.config": json,
      "deepgen.latent": json,
      "deepgen.image": json,
    },
    { requiredKeys: [] },
  );
  fuzz(t, props, (p) => void readDeepgenMetadata(p as Record<string, string>, "fuzz.onnx"), ["E_FORMAT"]);
});

test("CLI numbers: any text is a valid value or a commander usage error; 64-bit seeds are exact", (t) => {
  const parsers = [seedOption("--seed"), intOption("-n", 1), floatOption("--lr")];
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.bigInt({ min: -1n, max: 1n << 65n }).map(String), fc.double().map(String)), (text) => {
      for (const parse of parsers) {
        try {
          parse(text);
        } catch (e) {
          if (!(e instanceof InvalidArgumentError)) throw e;
        }
      }
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (seed) => BigInt(seedOption("--seed")(seed.toString())) === seed),
    { numRuns: RUNS },
  );
  t.pass();
});
