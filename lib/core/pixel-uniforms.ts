/**
 * The Philox draw of pixel d of sample `index` shared by the models whose samplers run in
 * TS: counter (d / 4, index mod 2^32, stream, index / 2^32), word d % 4, as in the fused
 * NADE kernels, so every sampler in deepgen keys its draws the same way.
 */
import { philox4x32, type PhiloxKey, uniformF64 } from "./philox.js";

export class PixelUniforms {
  private readonly words = new Uint32Array(4);
  private block = -1;
  private index = -1;

  constructor(
    private readonly key: PhiloxKey,
    private readonly stream: number,
  ) {}

  /** u in (0, 1) for pixel step d of sample `index`. */
  at(index: number, d: number): number {
    const blk = d >>> 2;
    if (blk !== this.block || index !== this.index) {
      philox4x32(blk, index % 0x100000000, this.stream, Math.floor(index / 0x100000000), this.key.key0, this.key.key1, this.words);
      this.block = blk;
      this.index = index;
    }
    return uniformF64(this.words[d & 3]!);
  }
}
