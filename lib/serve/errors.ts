/**
 * HTTP statuses of the server's errors. Bad input is always a 4xx: a DeepgenError thrown by a
 * model for a request's values maps by its stable code, and only what is left (a failing
 * backend, a bug) is a 5xx.
 */
import { isDeepgenError } from "../core/errors.js";

/** An error with its HTTP status and a stable code of the serving layer (E_QUEUE_FULL, E_TIMEOUT, E_LIMIT, ...). */
export class ServeError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Seconds for the Retry-After header (503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ServeError";
  }
}

/** 499 is nginx's "client closed request": logged and counted, never seen by the client. */
export const CLIENT_CLOSED = 499;

const DEEPGEN_STATUS: Record<string, number> = {
  E_ARG: 400,
  E_SHAPE: 400,
  E_FORMAT: 400,
  E_ABORTED: CLIENT_CLOSED,
  E_IO: 500,
  E_BACKEND: 500,
};

/** Stable codes for Fastify's own refusals: a body too large, a content type no route reads (else E_FORMAT: unparsable JSON, an empty body). */
const FASTIFY_STATUS_CODES: Record<number, string> = { 413: "E_LIMIT", 415: "E_MEDIA" };

/** The status, stable code and message an error is answered with. */
export function httpError(e: unknown): { statusCode: number; code: string; message: string } {
  if (e instanceof ServeError) return { statusCode: e.statusCode, code: e.code, message: e.message };
  if (isDeepgenError(e)) return { statusCode: DEEPGEN_STATUS[e.code] ?? 500, code: e.code, message: e.message };
  const f = e as { statusCode?: unknown; code?: unknown; message?: unknown; validation?: unknown };
  // Fastify's own errors (schema validation, body too large, bad JSON, unsupported media type) carry a 4xx statusCode.
  if (typeof f?.statusCode === "number" && f.statusCode >= 400 && f.statusCode < 500) {
    const code = f.validation !== undefined ? "E_ARG" : (FASTIFY_STATUS_CODES[f.statusCode] ?? "E_FORMAT");
    // Ajv says "must NOT have additional properties" without naming one: name it.
    const extra = (f.validation as { params?: { additionalProperty?: unknown } }[] | undefined)?.[0]?.params?.additionalProperty;
    const message = String(f.message ?? "bad request") + (typeof extra === "string" ? `: '${extra}'` : "");
    return { statusCode: f.statusCode, code, message };
  }
  return { statusCode: 500, code: "E_INTERNAL", message: "internal error" };
}
