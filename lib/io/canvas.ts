/** An RGB raster that plots draw on: a white canvas and a clipped pixel setter. */
import type { Raster } from "./png.js";

export type Rgb = readonly [number, number, number];

export interface Canvas {
  raster: Raster;
  /** Colours pixel (x, y), rounded; points outside the canvas are ignored. */
  set(x: number, y: number, c: Rgb): void;
}

export function rgbCanvas(width: number, height: number): Canvas {
  const data = new Uint8Array(width * height * 3).fill(255);
  return {
    raster: { width, height, channels: 3, data },
    set(x, y, c) {
      x = Math.round(x);
      y = Math.round(y);
      if (x < 0 || y < 0 || x >= width || y >= height) return;
      const o = (y * width + x) * 3;
      data[o] = c[0];
      data[o + 1] = c[1];
      data[o + 2] = c[2];
    },
  };
}

/** Rasters side by side on a white background, top-aligned, `gap` pixels apart. */
export function sideBySide(rasters: Raster[], gap = 10): Raster {
  const width = rasters.reduce((w, r) => w + r.width, 0) + gap * Math.max(0, rasters.length - 1);
  const height = Math.max(1, ...rasters.map((r) => r.height));
  const out = rgbCanvas(width, height);
  let x0 = 0;
  for (const r of rasters) {
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const o = (y * width + x0 + x) * 3;
        const i = y * r.width + x;
        for (let c = 0; c < 3; c++) out.raster.data[o + c] = r.channels === 1 ? r.data[i]! : r.data[3 * i + c]!;
      }
    }
    x0 += r.width + gap;
  }
  return out.raster;
}
