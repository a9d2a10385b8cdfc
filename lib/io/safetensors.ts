/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON header, then the raw
 * little-endian tensor data. The header maps names to {dtype, shape, data_offsets: [begin,
 * end]} (offsets relative to the data section) plus an optional "__metadata__" map of
 * strings.
 *
 * The reader is strict, as a loader of untrusted files must be: it rejects a header longer
 * than 100 MB or past the end of the file, invalid JSON, unknown dtypes, bad shapes, offsets
 * outside the data, overlapping tensors, holes, trailing bytes, and sizes that do not match
 * the shape. The writer pads the header so tensor data starts 8-byte aligned, and saves
 * atomically.
 */
import { promises as fsp } from "node:fs";
import * as fs from "node:fs";

import { DeepgenError } from "../core/errors.js";
import { atomicWriteFile, atomicWriteFileSync } from "./atomic-write.js";

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export type Dtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U64" | "U32" | "U16" | "U8" | "BOOL";

export type TensorData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

// F16 and BF16 are kept as their raw 16-bit words (Uint16Array); BOOL as bytes.
const DTYPES: Record<Dtype, { bytes: number; make: (buf: ArrayBuffer, n: number) => TensorData }> = {
  F64: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
  F32: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  F16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  BF16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  I64: { bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  I32: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  I16: { bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
  I8: { bytes: 1, make: (b, n) => new Int8Array(b, 0, n) },
  U64: { bytes: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  U32: { bytes: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  U16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  U8: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  BOOL: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
};

export interface SafeTensor {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** What the writer takes: dtype defaults from the array type (Float32Array -> F32, ...). */
export interface TensorToWrite {
  dtype?: Dtype;
  shape: readonly number[];
  data: TensorData;
}

function formatError(message: string): DeepgenError {
  return new DeepgenError("E_FORMAT", `invalid safetensors: ${message}`);
}

function checkLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new DeepgenError("E_BACKEND", "safetensors support needs a little-endian machine");
  }
}

function elementCount(shape: unknown, name: string): { shape: number[]; count: number } {
  if (!Array.isArray(shape)) throw formatError(`tensor '${name}': shape must be an array`);
  let count = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw formatError(`tensor '${name}': bad dimension ${JSON.stringify(d)}`);
    }
    count *= d;
    if (!Number.isSafeInteger(count)) throw formatError(`tensor '${name}': shape too large`);
  }
  return { shape: shape as number[], count };
}

interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

function parseEntry(name: string, raw: unknown, dataBytes: number): Entry {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw formatError(`tensor '${name}': entry must be an object`);
  }
  const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof r.dtype !== "string" || !Object.hasOwn(DTYPES, r.dtype)) {
    throw formatError(`tensor '${name}': unknown dtype ${JSON.stringify(r.dtype)}`);
  }
  const dtype = r.dtype as Dtype;
  const { shape, count } = elementCount(r.shape, name);
  const off = r.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0)) {
    throw formatError(`tensor '${name}': data_offsets must be two non-negative integers`);
  }
  const [begin, end] = off as [number, number];
  if (begin > end || end > dataBytes) {
    throw formatError(`tensor '${name}': data_offsets [${begin}, ${end}] outside the ${dataBytes}-byte data section`);
  }
  if (end - begin !== count * DTYPES[dtype].bytes) {
    throw formatError(
      `tensor '${name}': ${end - begin} bytes for shape [${shape.join(", ")}] of ${dtype} (needs ${count * DTYPES[dtype].bytes})`,
    );
  }
  return { name, dtype, shape, count, begin, end };
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw formatError("__metadata__ must be an object");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") throw formatError(`__metadata__ value of '${k}' must be a string`);
    out[k] = v;
  }
  return out;
}

/** Checks that the data section is covered exactly: no overlap, no hole, no trailing bytes. */
function checkLayout(entries: Entry[], dataBytes: number): void {
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) throw formatError(`tensors '${prev!.name}' and '${e.name}' overlap`);
    if (e.begin > pos) throw formatError(`unused bytes [${pos}, ${e.begin}) in the data section`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataBytes) throw formatError(`unused bytes [${pos}, ${dataBytes}) at the end of the data section`);
}

/** Parses a whole safetensors file held in memory. Tensor data is copied (aligned, owned). */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  checkLittleEndian();
  if (bytes.length < 8) throw formatError(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw formatError(`header length ${headerLen} exceeds the 100 MB limit`);
  const n = Number(headerLen);
  if (8 + n > bytes.length) throw formatError(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw formatError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw formatError("header must be a JSON object");
  }
  const dataStart = 8 + n;
  const dataBytes = bytes.length - dataStart;
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") metadata = parseMetadata(raw);
    else entries.push(parseEntry(name, raw, dataBytes));
  }
  checkLayout(entries, dataBytes);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const buf = new ArrayBuffer(e.end - e.begin);
    new Uint8Array(buf).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].make(buf, e.count) });
  }
  return { tensors, metadata };
}

export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    throw new DeepgenError("E_IO", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return withPath(path, () => parseSafetensors(bytes));
}

/**
 * The __metadata__ of a safetensors file, reading only its header (not the tensors): enough to
 * tell what a file holds before loading it whole.
 */
export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  let header: Buffer;
  try {
    const fh = await fsp.open(path, "r");
    try {
      const len = Buffer.alloc(8);
      const { bytesRead } = await fh.read(len, 0, 8, 0);
      if (bytesRead < 8) throw formatError(`file is ${bytesRead} bytes, shorter than the 8-byte header length`);
      const n = len.readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER_BYTES)) throw formatError(`header length ${n} exceeds the 100 MB limit`);
      header = Buffer.alloc(Number(n));
      const got = (await fh.read(header, 0, header.length, 8)).bytesRead;
      if (got < header.length) throw formatError(`header length ${header.length} runs past the end of the file`);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof DeepgenError) throw new DeepgenError(e.code, `${path}: ${e.message}`, { cause: e });
    throw new DeepgenError("E_IO", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return withPath(path, () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(header));
    } catch (e) {
      throw formatError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw formatError("header must be a JSON object");
    const raw = (parsed as Record<string, unknown>)["__metadata__"];
    return raw === undefined ? {} : parseMetadata(raw);
  });
}

export function readSafetensorsSync(path: string): SafetensorsContents {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new DeepgenError("E_IO", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return withPath(path, () => parseSafetensors(bytes));
}

function withPath<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DeepgenError) throw new DeepgenError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

function dtypeOf(data: TensorData): Dtype {
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Float32Array) return "F32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof BigUint64Array) return "U64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Int16Array) return "I16";
  if (data instanceof Int8Array) return "I8";
  if (data instanceof Uint32Array) return "U32";
  if (data instanceof Uint16Array) return "U16";
  if (data instanceof Uint8Array) return "U8";
  throw new DeepgenError("E_ARG", "tensor data must be a typed array");
}

/**
 * Serializes tensors (in the order given) and string metadata. Returns the chunks to write:
 * the length prefix and header, then each tensor's bytes (no copy of the data).
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array[] {
  checkLittleEndian();
  const list: [string, TensorToWrite][] =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, TensorToWrite>).entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new DeepgenError("E_ARG", `metadata '${k}' must be a string`);
  }
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    if (name === "" || name === "__metadata__") throw new DeepgenError("E_ARG", `invalid tensor name '${name}'`);
    const dtype = t.dtype ?? dtypeOf(t.data);
    const spec = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
    if (spec === undefined) throw new DeepgenError("E_ARG", `tensor '${name}': unknown dtype ${String(dtype)}`);
    if (t.data.BYTES_PER_ELEMENT !== spec.bytes) {
      throw new DeepgenError("E_ARG", `tensor '${name}': ${dtype} needs ${spec.bytes}-byte elements`);
    }
    let count = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new DeepgenError("E_SHAPE", `tensor '${name}': bad dimension ${d}`);
      count *= d;
    }
    if (count !== t.data.length) {
      throw new DeepgenError("E_SHAPE", `tensor '${name}': shape [${t.shape.join(", ")}] has ${count} elements, data has ${t.data.length}`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    chunks.push(bytes);
  }
  const json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8; // data starts 8-byte aligned
  if (pad > 0) headerBytes = encoder.encode(json + " ".repeat(pad));
  const prefix = new Uint8Array(8 + headerBytes.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  prefix.set(headerBytes, 8);
  return [prefix, ...chunks];
}

export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await atomicWriteFile(path, serializeSafetensors(tensors, metadata));
}

export function writeSafetensorsSync(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  atomicWriteFileSync(path, serializeSafetensors(tensors, metadata));
}
