/** Request images: JSON rows [n][dim] of numbers, or one PNG of the model's size (grey levels / 255). */
import { PNG } from "pngjs";

import { ServeError } from "./errors.js";

/** Rows of numbers as one Float32Array [n, dim]; 400 naming the first row of another length. */
export function rowsToArray(rows: number[][], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim) throw new ServeError(400, "E_SHAPE", `x[${i}] has ${row.length} values; this model reads ${dim}`);
    out.set(row, i * dim);
  });
  return out;
}

/**
 * One PNG as a row of height x width values in [0, 1] (the red channel of RGB, the grey of
 * grey images), binarized at 0.5 for models of 0/1 pixels. 400 for a file that is not a PNG or
 * has another size.
 */
export function pngToRow(body: Buffer, height: number, width: number, binary: boolean): Float32Array {
  // The size from the header first: a small body can claim a huge image, and decoding it would
  // allocate width x height x 4 bytes before any check.
  const PNG_SIGNATURE = "89504e470d0a1a0a";
  if (body.length < 24 || body.subarray(0, 8).toString("hex") !== PNG_SIGNATURE || body.subarray(12, 16).toString("latin1") !== "IHDR")
    throw new ServeError(400, "E_FORMAT", "the body is not a PNG (no PNG signature and IHDR header)");
  const [w, h] = [body.readUInt32BE(16), body.readUInt32BE(20)];
  if (w !== width || h !== height) throw new ServeError(400, "E_SHAPE", `the PNG is ${w}x${h}; this model reads ${width}x${height} images`);
  let png: PNG;
  try {
    png = PNG.sync.read(body);
  } catch (e) {
    throw new ServeError(400, "E_FORMAT", `the body is not a readable PNG: ${(e as Error).message}`);
  }
  if (png.width !== width || png.height !== height)
    throw new ServeError(400, "E_SHAPE", `the PNG is ${png.width}x${png.height}; this model reads ${width}x${height} images`);
  const out = new Float32Array(height * width);
  for (let i = 0; i < out.length; i++) {
    const v = png.data[4 * i]! / 255;
    out[i] = binary ? (v >= 0.5 ? 1 : 0) : v;
  }
  return out;
}
