/**
 * The one error type deepgen throws for bad input, bad files, missing backends and aborts.
 * `code` is stable across versions: match on it, not on the message.
 */
export type ErrorCode =
  | "E_ARG" // a bad argument value or type
  | "E_SHAPE" // tensor shapes or sizes that do not fit together
  | "E_FORMAT" // a file whose contents are invalid
  | "E_BACKEND" // a backend that is missing, not built, or failed natively
  | "E_IO" // a file system failure
  | "E_ABORTED"; // cancelled through an AbortSignal

const CODES: ReadonlySet<string> = new Set(["E_ARG", "E_SHAPE", "E_FORMAT", "E_BACKEND", "E_IO", "E_ABORTED"]);

export class DeepgenError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeepgenError";
    this.code = code;
  }
}

export function isDeepgenError(e: unknown, code?: ErrorCode): e is DeepgenError {
  return e instanceof DeepgenError && (code === undefined || e.code === code);
}

/**
 * Converts an error thrown by the native addon (a plain Error with a `code` string) into a
 * DeepgenError. `callSite`, captured before an async call, replaces the native stack, which
 * says nothing useful, so the user sees where they called from.
 */
export function fromNativeError(err: unknown, callSite?: string): DeepgenError {
  if (err instanceof DeepgenError) return err;
  const raw = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof raw?.code === "string" && CODES.has(raw.code) ? (raw.code as ErrorCode) : "E_BACKEND";
  const message = typeof raw?.message === "string" ? raw.message : String(err);
  const out = new DeepgenError(code, message, { cause: err });
  if (callSite !== undefined) {
    // Drop the "Error" line and the frame of the job runner that captured the stack.
    out.stack = `DeepgenError: ${message}\n${callSite.split("\n").slice(2).join("\n")}`;
  }
  return out;
}
