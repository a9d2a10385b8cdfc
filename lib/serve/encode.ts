/** Response bodies of samples: a PNG (one image, or a grid for n > 1), a float32 .npy [n, h, w], or JSON rows. */
import { encodePng, imageGrid } from "../io/png.js";

/** NumPy's .npy format 1.0 of a little-endian float32 array of `shape`. */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // magic (6) + version (2) + length (2) + header + newline: a multiple of 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1, " ")}\n`;
  const out = Buffer.alloc(total + data.byteLength);
  out.write("\x93NUMPY", 0, "latin1");
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, "latin1");
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) out.set(bytes, total);
  else for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i]!, total + 4 * i);
  return out;
}

/** Samples [n, h * w] as a PNG: the image itself for n = 1, else a grid (2 px grey padding). */
export function encodeSamplesPng(x: Float32Array, n: number, height: number, width: number): Buffer {
  const raster = n === 1 ? imageGrid(x, { n: 1, height, width, pad: 0 }) : imageGrid(x, { n, height, width });
  return Buffer.from(encodePng(raster));
}

/** Rows [n][dim] of plain numbers (each float32 exactly, as JSON doubles hold any float32). */
export function rowsJson(x: Float32Array, n: number): number[][] {
  const dim = n === 0 ? 0 : x.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * dim, (i + 1) * dim)));
}
