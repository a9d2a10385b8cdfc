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
