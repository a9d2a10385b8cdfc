import { DeepgenError } from "./errors.js";

export type Shape = readonly number[];

/** Number of elements of a shape; throws E_SHAPE unless every dimension is a non-negative integer. */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new DeepgenError("E_SHAPE", `invalid dimension ${String(d)} in shape [${shape.join(", ")}]`);
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new DeepgenError("E_SHAPE", `shape [${shape.join(", ")}] is too large`);
  return n;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A dense float32 tensor: a Float32Array in row-major order plus its shape. The data is
 * owned by JS; native kernels read and write it in place.
 */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;

  constructor(data: Float32Array, shape: Shape) {
    if (!(data instanceof Float32Array)) throw new DeepgenError("E_ARG", "Tensor data must be a Float32Array");
    const size = shapeSize(shape);
    if (size !== data.length) {
      throw new DeepgenError("E_SHAPE", `shape [${shape.join(", ")}] has ${size} elements but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  static zeros(shape: Shape): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape);
  }

  static from(values: ArrayLike<number>, shape: Shape): Tensor {
    return new Tensor(Float32Array.from(values), shape);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A view with another shape of the same size (shares data). */
  reshape(shape: Shape): Tensor {
    return new Tensor(this.data, shape);
  }

  /** Throws E_SHAPE unless this tensor has exactly `shape` (-1 matches any size). */
  expectShape(name: string, shape: Shape): this {
    const ok = shape.length === this.shape.length && shape.every((d, i) => d === -1 || d === this.shape[i]);
    if (!ok) {
      throw new DeepgenError(
        "E_SHAPE",
        `${name} must have shape [${shape.map((d) => (d === -1 ? "*" : d)).join(", ")}], got [${this.shape.join(", ")}]`,
      );
    }
    return this;
  }

  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }
}
