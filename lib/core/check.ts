// Small argument validators shared by the public entry points. Each throws DeepgenError(E_ARG).
import { DeepgenError } from "./errors.js";

export function checkInteger(
  name: string,
  value: unknown,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new DeepgenError("E_ARG", `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function checkFloat32Array(name: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new DeepgenError("E_ARG", `${name} must be a Float32Array`);
  }
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new DeepgenError("E_ARG", `${name} must be one of ${allowed.join(", ")}, got ${String(value)}`);
  }
  return value as T;
}
