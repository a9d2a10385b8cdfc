/** The image side of a model over D pixels: its config's height / width, else a square. */
import { DeepgenError } from "../core/errors.js";

export function modelImageShape(dim: number, config: { height?: number; width?: number }): [number, number] {
  if (config.height !== undefined && config.width !== undefined) return [config.height, config.width];
  const side = Math.round(Math.sqrt(dim));
  if (side * side !== dim)
    throw new DeepgenError(
      "E_ARG",
      `ONNX export: vectors of length ${dim} have no image shape (no height / width in the config, not a square)`,
    );
  return [side, side];
}
