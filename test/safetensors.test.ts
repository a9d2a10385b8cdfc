import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { atomicWriteFile } from "../lib/io/atomic-write.js";
import { loadModelFile, requireF32, saveModelFile } from "../lib/io/model-file.js";
import { MAX_HEADER_BYTES, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from "../lib/io/safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-st-"));

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A file built by hand: the given header object followed by `dataBytes` bytes. */
function handMade(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function formatError(t: import("ava").ExecutionContext, bytes: Uint8Array, pattern: RegExp): void {
  const err = t.throws(() => parseSafetensors(bytes));
  t.is((err as { code?: string }).code, "E_FORMAT");
  t.regex(err!.message, pattern);
}

test("round trip of every dtype, shapes (incl. scalars and empty) and metadata", (t) => {
  const tensors = {
    w: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
    d: { shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    i: { shape: [3], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) },
    l: { shape: [1], data: BigInt64Array.from([-(2n ** 63n)]) },
    b: { shape: [2, 2], data: Uint8Array.from([0, 1, 1, 0]), dtype: "BOOL" as const },
    h: { shape: [1], data: Uint16Array.from([0x3c00]), dtype: "F16" as const },
    s: { shape: [], data: Float32Array.from([42]) },
    e: { shape: [0, 4], data: new Float32Array(0) },
  };
  const bytes = concat(serializeSafetensors(tensors, { "deepgen.model": "test", note: "héllo" }));
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  t.is((8 + headerLen) % 8, 0, "data section is 8-byte aligned");
  const back = parseSafetensors(bytes);
  t.deepEqual(back.metadata, { "deepgen.model": "test", note: "héllo" });
  for (const [name, orig] of Object.entries(tensors)) {
    const got = back.tensors.get(name)!;
    t.deepEqual(got.shape, orig.shape, name);
    t.deepEqual([...got.data], [...orig.data], name);
  }
  t.is(back.tensors.get("b")!.dtype, "BOOL");
  t.is(back.tensors.get("h")!.dtype, "F16");
  t.is(back.tensors.get("l")!.dtype, "I64");
});

test("rejects a truncated file: shorter than the length prefix, or data cut off", (t) => {
  formatError(t, new Uint8Array(5), /shorter than the 8-byte header length/);
  const good = concat(serializeSafetensors({ w: { shape: [4], data: new Float32Array(4) } }));
  formatError(t, good.subarray(0, good.length - 3), /outside the \d+-byte data section/);
});

test("rejects a header length past the end of the file", (t) => {
  const bytes = handMade({}, 0);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
  formatError(t, bytes, /runs past the end/);
});

test("rejects a header over 100 MB without reading it", (t) => {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
  formatError(t, bytes, /exceeds the 100 MB limit/);
  new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  formatError(t, bytes, /exceeds the 100 MB limit/);
});

test("rejects overlapping offsets, holes and trailing bytes", (t) => {
  const overlap = handMade(
    { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } },
    12,
  );
  formatError(t, overlap, /overlap/);
  const hole = handMade({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8);
  formatError(t, hole, /unused bytes \[0, 4\)/);
  const trailing = handMade({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, 8);
  formatError(t, trailing, /unused bytes \[4, 8\) at the end/);
});

test("rejects unknown dtypes, shape/size mismatches and malformed entries", (t) => {
  formatError(t, handMade({ a: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, 1), /unknown dtype "F8"/);
  formatError(t, handMade({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8), /8 bytes for shape \[3\] of F32 \(needs 12\)/);
  formatError(t, handMade({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), /bad dimension/);
  formatError(t, handMade({ a: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, 4), /outside/);
  formatError(t, handMade({ a: { dtype: "F32", shape: [1] } }, 4), /data_offsets/);
  formatError(t, handMade([1, 2], 0), /must be a JSON object/);
  formatError(t, handMade({ __metadata__: { k: 1 } }, 0), /must be a string/);
  const notJson = handMade({}, 0);
  notJson[8] = 0x7b; // '{' then garbage
  notJson[9] = 0x7b;
  formatError(t, notJson, /not valid UTF-8 JSON/);
});

test("the writer rejects data that does not match its shape", (t) => {
  const err = t.throws(() => serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }));
  t.is((err as { code?: string }).code, "E_SHAPE");
});

test("save is atomic: a failed write leaves the previous file intact and no temp file", async (t) => {
  // A folder of its own: other tests of this file write (and briefly hold temp files) concurrently.
  const own = mkdtempSync(join(dir, "atomic-"));
  const path = join(own, "model.safetensors");
  await writeSafetensors(path, { w: { shape: [2], data: Float32Array.from([1, 2]) } });
  const before = readFileSync(path);
  function* failing(): Generator<Uint8Array> {
    yield new Uint8Array([1, 2, 3]);
    throw new Error("disk full (simulated)");
  }
  const err = await t.throwsAsync(atomicWriteFile(path, failing()));
  t.is((err as { code?: string }).code, "E_IO");
  t.deepEqual(readFileSync(path), before);
  t.deepEqual(
    readdirSync(own).filter((f) => f.endsWith(".tmp")),
    [],
  );
  const back = await readSafetensors(path);
  t.deepEqual([...back.tensors.get("w")!.data], [1, 2]);
});

test("model files carry deepgen.model, deepgen.config and deepgen.version", async (t) => {
  const path = join(dir, "m.safetensors");
  await saveModelFile(path, "toy", { hidden: 3 }, { W: { shape: [3, 2], data: new Float32Array(6).fill(0.5) } });
  const file = await loadModelFile<{ hidden: number }>(path, "toy");
  t.is(file.config.hidden, 3);
  t.regex(file.version, /^\d+\.\d+\.\d+/);
  t.deepEqual([...requireF32(file, "W", [3, 2])], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  t.is(t.throws(() => requireF32(file, "V", [1]))?.message, "missing tensor 'V'");
  t.regex(t.throws(() => requireF32(file, "W", [2, 3]))!.message, /expected \[2, 3\]/);
  const wrongKind = await t.throwsAsync(loadModelFile(path, "nade"));
  t.is((wrongKind as { code?: string }).code, "E_FORMAT");
  const plain = join(dir, "plain.safetensors");
  await writeSafetensors(plain, { x: { shape: [1], data: new Float32Array(1) } });
  t.regex((await t.throwsAsync(loadModelFile(plain)))!.message, /not a deepgen model file/);
});

test("reading a missing file is E_IO; a garbage file is E_FORMAT naming the path", async (t) => {
  t.is(((await t.throwsAsync(readSafetensors(join(dir, "nope.safetensors")))) as { code?: string }).code, "E_IO");
  const junk = join(dir, "junk.safetensors");
  writeFileSync(junk, "not a safetensors file at all");
  const err = await t.throwsAsync(readSafetensors(junk));
  t.is((err as { code?: string }).code, "E_FORMAT");
  t.true(err!.message.startsWith(junk));
  t.true(existsSync(junk));
});
