import { DeepgenError } from "../../lib/core/errors.js";

/**
 * Asserts (through ava's t.throws) that fn throws, and returns the DeepgenError's code, or a
 * string naming what else was thrown, so `t.is(code(t, fn), "E_ARG")` fails with a reason.
 */
export function code(t: { throws: (fn: () => unknown) => unknown }, fn: () => unknown): string | undefined {
  const err = t.throws(fn);
  return err instanceof DeepgenError ? err.code : `not a DeepgenError: ${String(err)}`;
}
