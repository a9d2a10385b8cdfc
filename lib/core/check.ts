// Small argument validators shared by the public entry points. Each throws DeepgenError(E_ARG).
import { DeepgenError } from "./errors.js";

export function checkInteger(name: string, value: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
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

/**
 * The accepted keys of an options type, written once as a record so that the compiler
 * refuses a list that misses a key of the type or names one it lacks.
 */
export function optionKeys<T extends object>(keys: { [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The options object of a public call: undefined, where the options are optional, reads as {};
 * anything but a plain object is E_ARG, and so is a key the call does not know, since a typo
 * (`seed` for `initSeed`) would otherwise be ignored and the default used without a word.
 * `required` keys must be present and not undefined.
 */
export function checkOptions<T extends object>(
  where: string,
  opts: T | undefined,
  accepted: readonly string[],
  required: readonly string[] = [],
): T {
  if (opts === undefined && required.length === 0) return {} as T;
  if (!isPlainObject(opts)) {
    const got =
      opts === null
        ? "null"
        : Array.isArray(opts)
          ? "an array"
          : opts === undefined
            ? "nothing"
            : typeof opts === "object"
              ? "an object that is not plain"
              : typeof opts;
    const need = required.length > 0 ? ` with ${required.join(", ")}` : "";
    throw new DeepgenError("E_ARG", `${where}: options must be a plain object${need}, got ${got}`);
  }
  for (const key of Object.keys(opts)) {
    if (!accepted.includes(key)) throw new DeepgenError("E_ARG", `${where}: unknown option '${key}' (accepted: ${accepted.join(", ")})`);
  }
  for (const key of required) {
    if (opts[key] === undefined) throw new DeepgenError("E_ARG", `${where}: option '${key}' is required`);
  }
  return opts as T;
}
