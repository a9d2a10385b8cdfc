/**
 * Output conventions of every command: with --json, exactly one JSON object on stdout and
 * nothing else there (progress and messages go to stderr); otherwise human-readable text.
 * Errors, usage errors included, exit 2 for bad input and 1 for anything else.
 */
import { DeepgenError } from "../core/errors.js";

/** How each command runs its action: an error becomes reportError's output and exit code. */
export type Run = (json: boolean, fn: () => Promise<void> | void) => Promise<void>;

export const run: Run = async (json, fn) => {
  try {
    await fn();
  } catch (e) {
    reportError(e, json);
  }
};

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
}

/** The codes that mean bad input (usage, shapes, file contents): exit 2. */
const BAD_INPUT = new Set(["E_ARG", "E_SHAPE", "E_FORMAT"]);

/** The code of an error: a DeepgenError's own, E_IO for a failed system call (a port in use), else E_INTERNAL. */
function codeOf(e: unknown): string {
  if (e instanceof DeepgenError) return e.code;
  return e instanceof Error && "syscall" in e ? "E_IO" : "E_INTERNAL";
}

/**
 * Reports an error, without a stack trace, and sets the exit code: 2 for bad usage/input, 1
 * for anything else.
 */
export function reportError(e: unknown, json: boolean): void {
  const code = codeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  if (json) printJson({ error: { code, message } });
  else process.stderr.write(`deepgen: ${code}: ${message}\n`);
  process.exitCode = BAD_INPUT.has(code) ? 2 : 1;
}
