/**
 * Output conventions of every command: with --json, exactly one JSON object on stdout and
 * nothing else there (progress and messages go to stderr); otherwise human-readable text.
 */
import { DeepgenError } from "../core/errors.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
}

/** Reports an error and sets the exit code: 2 for bad usage/input, 1 for anything else. */
export function reportError(e: unknown, json: boolean): void {
  const err = e instanceof DeepgenError ? e : undefined;
  const message = e instanceof Error ? e.message : String(e);
  if (json) printJson({ error: { code: err?.code ?? "E_INTERNAL", message } });
  else process.stderr.write(`deepgen: ${err ? `${err.code}: ` : ""}${message}\n`);
  process.exitCode = err && (err.code === "E_ARG" || err.code === "E_SHAPE" || err.code === "E_FORMAT") ? 2 : 1;
}
