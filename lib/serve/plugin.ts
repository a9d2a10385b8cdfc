/**
 * The deepgen routes as a Fastify plugin: mount it into any Fastify app (with a prefix if you
 * like), or let createServer build a whole server around it. Every compute route goes through
 * the model's batcher; a client that disconnects aborts its request (see Batcher.submit).
 */
import { timingSafeEqual } from "node:crypto";

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

import type { Seed } from "../core/philox.js";
import { Vae } from "../models/vae.js";
import { pngToRow, rowsToArray } from "./decode.js";
import { encodeNpy, encodeSamplesPng, rowsJson } from "./encode.js";
import { CLIENT_CLOSED, httpError, ServeError } from "./errors.js";
import { canComplete, hasLikelihood, type Job, type JobResult } from "./jobs.js";
import { requestSeed, seedJson } from "./seed.js";
import { COMPLETE_BODY, LOGPROB_JSON_BODY, LOGPROB_QUERY, NAME_PARAMS, NO_QUERY, SAMPLE_BODY } from "./schemas.js";
import { type ServedModel, ServeState } from "./state.js";
import type { ServeOptions } from "./options.js";
import type { Samples } from "../models/density.js";

export interface DeepgenPluginOptions {
  /** The server state to use (createServer passes its own); else one is made from `serve`. */
  state?: ServeState;
  serve?: ServeOptions;
}

type Format = "png" | "json" | "npy";

const BINARY_KINDS = new Set(["nade", "rowlstm", "diagbilstm", "bernoulli", "markov"]);

function modelOr404(state: ServeState, name: string): ServedModel {
  const m = state.get(name);
  if (m === undefined && !state.hasLoaded) throw new ServeError(503, "E_LOADING", "the models are still loading", 1);
  if (m === undefined) throw new ServeError(404, "E_NOT_FOUND", `no model named '${name}' is served`);
  return m;
}

function checkRows(state: ServeState, n: number): void {
  if (n > state.options.maxN) throw new ServeError(413, "E_LIMIT", `${n} rows exceed this server's limit of ${state.options.maxN} (maxN)`);
}

/** An AbortSignal that fires when the client goes away before its answer is written. */
function clientSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

async function submit(state: ServeState, m: ServedModel, job: Job, rows: number, reply: FastifyReply): Promise<JobResult> {
  if (state.draining) throw new ServeError(503, "E_DRAINING", "the server is shutting down", 1);
  return m.batcher.submit(job.kind, rows, job, clientSignal(reply));
}

function sendImages(reply: FastifyReply, m: ServedModel, s: Samples, seed: Seed, format: Format): FastifyReply {
  reply.header("x-deepgen-seed", String(seed));
  if (format === "npy") return reply.type("application/octet-stream").send(encodeNpy(s.x, [s.n, m.height, m.width]));
  if (format === "png") return reply.type("image/png").send(encodeSamplesPng(s.x, s.n, m.height, m.width));
  return reply.send({ model: m.name, n: s.n, seed: seedJson(seed), height: m.height, width: m.width, x: rowsJson(s.x, s.n) });
}

function isBinary(m: ServedModel): boolean {
  const domain = (m.model as { inputDomain?: string }).inputDomain;
  return domain === undefined ? BINARY_KINDS.has(m.model.kind) : domain === "binary";
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, "") ?? "");
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function describe(m: ServedModel) {
  const routes = ["sample"];
  if (hasLikelihood(m.model)) routes.push("logprob");
  if (canComplete(m.model)) routes.push("complete");
  const codes = (m.model as { codes?: number }).codes;
  return {
    name: m.name,
    kind: m.model.kind,
    parameters: m.model.paramCount(),
    dim: m.model.dim,
    height: m.height,
    width: m.width,
    routes,
    ...(codes ? { codes } : {}),
    ...(m.card ? { card: m.card } : {}),
  };
}

const plugin: FastifyPluginAsync<DeepgenPluginOptions> = async (app: FastifyInstance, opts) => {
  const state = opts.state ?? new ServeState(opts.serve ?? { models: { names: [] } }, (msg, err) => app.log.error({ err }, msg));
  if (opts.state === undefined) void state.reload().catch((err) => app.log.error({ err }, "loading the models failed"));
  // Closing the app drains: readiness turns 503, queued and running work finishes first.
  app.addHook("preClose", async () => {
    await state.drain();
  });
  const { metrics } = state;

  app.addContentTypeParser("image/png", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const count = (req: FastifyRequest, status: number): void => {
    const model = (req.params as { name?: string } | undefined)?.name ?? "";
    metrics.requests.inc({ model: state.get(model) ? model : "", route: req.routeOptions.url ?? "unmatched", status: String(status) });
  };

  app.setErrorHandler((err, req, reply) => {
    const h = httpError(err);
    if (h.statusCode === CLIENT_CLOSED) {
      // No one reads the answer and onResponse never fires for it: counted here.
      count(req, CLIENT_CLOSED);
      return reply.code(CLIENT_CLOSED).send();
    }
    if (h.statusCode >= 500 && h.statusCode !== 503 && h.statusCode !== 504) req.log.error({ err }, "request failed");
    if (h.statusCode === 503) reply.header("retry-after", String((err as ServeError).retryAfter ?? 1));
    // Fastify's own message does not say the limit: name it, as the other limits do.
    if (h.code === "E_LIMIT" && !(err instanceof ServeError))
      h.message = `the body exceeds this server's limit of ${app.initialConfig.bodyLimit} bytes (bodyLimit)`;
    return reply.code(h.statusCode).send({ error: { code: h.code, message: h.message } });
  });

  app.addHook("onResponse", async (req, reply) => count(req, reply.statusCode));

  app.get("/health/live", { schema: { querystring: NO_QUERY } }, async () => ({ status: "live" }));
  app.get("/health/ready", { schema: { querystring: NO_QUERY } }, async (_req, reply) => {
    if (!state.ready)
      return reply
        .code(503)
        .header("retry-after", "1")
        .send({ status: state.draining ? "draining" : "loading" });
    return { status: "ready", models: state.list().length };
  });
  app.get("/metrics", { schema: { querystring: NO_QUERY } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.get("/v1/models", { schema: { querystring: NO_QUERY } }, async () => ({ models: state.list().map(describe) }));
  app.get<{ Params: { name: string } }>("/v1/models/:name", { schema: { params: NAME_PARAMS, querystring: NO_QUERY } }, async (req) =>
    describe(modelOr404(state, req.params.name)),
  );

  app.post<{ Params: { name: string }; Body: { n: number; seed?: number | string; format?: Format; code?: number } }>(
    "/v1/models/:name/sample",
    { schema: { params: NAME_PARAMS, querystring: NO_QUERY, body: SAMPLE_BODY } },
    async (req, reply) => {
      const m = modelOr404(state, req.params.name);
      const { n, code, format = "png" } = req.body;
      checkRows(state, n);
      const seed = requestSeed(req.body.seed);
      const codes = (m.model as { codes?: number }).codes ?? 0;
      if (code !== undefined && code >= codes)
        throw new ServeError(400, "E_ARG", codes === 0 ? `'${m.name}' has no code to fix` : `code must be below ${codes}`);
      const job: Job = { kind: "sample", request: code === undefined ? { n, seed } : { n, seed, code } };
      const s = (await submit(state, m, job, n, reply)) as Samples;
      return sendImages(reply, m, s, seed, format);
    },
  );

  app.post<{
    Params: { name: string };
    Body: Buffer | { x: number[][]; k?: number; seed?: number | string };
    Querystring: { k?: string; seed?: string };
  }>(
    "/v1/models/:name/logprob",
    {
      schema: {
        params: NAME_PARAMS,
        querystring: LOGPROB_QUERY,
        body: { content: { "application/json": { schema: LOGPROB_JSON_BODY }, "image/png": { schema: {} } } },
      },
    },
    async (req, reply) => {
      const m = modelOr404(state, req.params.name);
      if (!hasLikelihood(m.model)) throw new ServeError(400, "E_ARG", `'${m.name}' (${m.model.kind}) has no likelihood to evaluate`);
      const body = req.body;
      const png = Buffer.isBuffer(body);
      // Content types other than the two with a schema reach here unvalidated (text/plain as a string).
      if (!png && !Array.isArray((body as { x?: unknown } | null)?.x))
        throw new ServeError(415, "E_MEDIA", "logprob reads application/json ({ x: [[...]] }) or image/png");
      const rows = png ? 1 : body.x.length;
      checkRows(state, rows);
      const x = png ? pngToRow(body, m.height, m.width, isBinary(m)) : rowsToArray(body.x, m.model.dim);
      const kRaw = png ? req.query.k : body.k;
      const seedRaw = png ? req.query.seed : body.seed;
      if (m.model instanceof Vae) {
        const k = kRaw === undefined ? 100 : Number(kRaw);
        if (k < 1) throw new ServeError(400, "E_ARG", "k must be at least 1");
        if (k > state.options.maxK)
          throw new ServeError(413, "E_LIMIT", `k ${k} exceeds this server's limit of ${state.options.maxK} (maxK)`);
        // The bound is an estimate: a fixed default seed makes it repeatable.
        const seed = seedRaw === undefined ? 0 : requestSeed(seedRaw);
        const lp = (await submit(state, m, { kind: "iwae", x, n: rows, k, seed }, rows, reply)) as Float32Array;
        return { model: m.name, n: rows, unit: "nats", bound: "iwae", k, seed: seedJson(seed), logprob: Array.from(lp) };
      }
      if (kRaw !== undefined || seedRaw !== undefined)
        throw new ServeError(400, "E_ARG", `k and seed apply to a VAE's IWAE bound; '${m.name}' has an exact likelihood`);
      const lp = (await submit(state, m, { kind: "logprob", x, n: rows }, rows, reply)) as Float32Array;
      return { model: m.name, n: rows, unit: "nats", logprob: Array.from(lp) };
    },
  );

  app.post<{ Params: { name: string }; Body: { x: number[][]; rows: number; seed?: number | string; format?: Format } }>(
    "/v1/models/:name/complete",
    { schema: { params: NAME_PARAMS, querystring: NO_QUERY, body: COMPLETE_BODY } },
    async (req, reply) => {
      const m = modelOr404(state, req.params.name);
      if (!canComplete(m.model))
        throw new ServeError(
          400,
          "E_ARG",
          `'${m.name}' (${m.model.kind}) cannot complete images (a PixelRNN or a NADE with the natural ordering can)`,
        );
      const { rows, format = "png" } = req.body;
      const n = req.body.x.length;
      checkRows(state, n);
      if (rows > m.height) throw new ServeError(400, "E_ARG", `rows ${rows} exceeds the image height ${m.height}`);
      const x = rowsToArray(req.body.x, m.model.dim);
      const seed = requestSeed(req.body.seed);
      const s = (await submit(state, m, { kind: "complete", x, n, known: rows * m.width, seed }, n, reply)) as Samples;
      return sendImages(reply, m, s, seed, format);
    },
  );

  if (state.options.adminToken !== undefined) {
    const token = state.options.adminToken;
    app.post("/admin/reload", { schema: { querystring: NO_QUERY } }, async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, token))
        return reply.code(401).send({ error: { code: "E_AUTH", message: "a valid bearer token is required" } });
      return state.reload();
    });
  }
};

/** The deepgen routes, for `app.register(deepgenPlugin, { serve: { models: { names: ['nade'] } } })`. */
export const deepgenPlugin = plugin;
