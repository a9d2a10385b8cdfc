/**
 * createServer: a Fastify app with the deepgen routes, JSON logs on stderr, strict schemas
 * (unknown properties and wrongly typed values are 400, not silently dropped or coerced), and
 * `close()` that drains: readiness turns 503, queued and running work finishes, then it closes.
 */
import Fastify, { type FastifyInstance } from "fastify";

import { deepgenPlugin } from "./plugin.js";
import type { ServeOptions } from "./options.js";
import { ServeState } from "./state.js";

export interface CreateServerOptions extends ServeOptions {
  /** Largest request body in bytes (default 8 MiB; more is 413). */
  bodyLimit?: number;
  /** Log level of the JSON logs on stderr (default 'info'; 'silent' for none). */
  logLevel?: string;
}

export type DeepgenServer = FastifyInstance & { deepgen: ServeState };

/**
 * The server, not yet listening (call `listen`). Models load in the background: /health/ready
 * answers 503 until they have; `await server.deepgen.loaded` waits for them.
 */
export function createServer(options: CreateServerOptions): DeepgenServer {
  const { bodyLimit, logLevel, ...serve } = options;
  const app = Fastify({
    bodyLimit: bodyLimit ?? 8 << 20,
    logger: { level: logLevel ?? "info", stream: process.stderr },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Keep-alive sockets that carry no request are closed at once by close(); busy ones finish.
    forceCloseConnections: "idle",
  });
  const state = new ServeState(serve, (msg, err) => app.log.error({ err }, msg));
  app.decorate("deepgen", state);
  app.register(deepgenPlugin, { state });
  app.addHook("onReady", async () => {
    // Listening starts at once (liveness answers); readiness waits for the models.
    if (!state.hasLoaded) void state.reload().catch((err) => app.log.error({ err }, "loading the models failed"));
  });
  return app as unknown as DeepgenServer;
}
