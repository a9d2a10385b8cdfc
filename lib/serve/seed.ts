/** Seeds in requests: JSON integers up to 2^53 - 1, or decimal strings for all of [0, 2^64). */
import { randomInt } from "node:crypto";

import type { Seed } from "../core/philox.js";
import { ServeError } from "./errors.js";

/** The request's seed, or a fresh random one when it has none. */
export function requestSeed(value: unknown): Seed {
  if (value === undefined) return randomInt(0, 2 ** 48 - 1);
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return value;
  } else if (typeof value === "string" && /^\d{1,20}$/.test(value)) {
    const big = BigInt(value);
    if (big < 1n << 64n) return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  throw new ServeError(400, "E_ARG", "seed must be an integer in [0, 2^53) or a decimal string in [0, 2^64)");
}

/** The seed as JSON gives it back: a number when exact, else its decimal string. */
export function seedJson(seed: Seed): number | string {
  return typeof seed === "bigint" ? seed.toString() : seed;
}
