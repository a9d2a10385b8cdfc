/**
 * The baseline of `npm run bench -- serve`: the same HTTP layer (Fastify, the same sample route
 * and schema, .npy answers) calling onnxruntime-node once per request on the shipped DCGAN
 * exported by deepgen, with no batching. Prints its URL on stdout, serves until SIGTERM.
 */
import Fastify from "fastify";

import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxGenerator } from "../lib/onnx/generator.js";
import { loadSampler } from "../lib/models/registry.js";
import { encodeNpy } from "../lib/serve/encode.js";
import { SAMPLE_BODY } from "../lib/serve/schemas.js";
import { requestSeed } from "../lib/serve/seed.js";

const threads = Number(process.env["DEEPGEN_THREADS"] ?? "0") || undefined;
const onnx = await OnnxGenerator.load(exportOnnx(await loadSampler("dcgan")), { threads });
const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
app.post<{ Body: { n: number; seed?: number | string } }>(
  "/v1/models/dcgan/sample",
  { schema: { body: SAMPLE_BODY } },
  async (req, reply) => {
    const seed = requestSeed(req.body.seed);
    const out = await onnx.sample(req.body.n, { seed });
    reply.header("x-deepgen-seed", String(seed));
    return reply.type("application/octet-stream").send(encodeNpy(out.images, [out.n, out.height, out.width]));
  },
);
app.get("/rss", async () => ({ rss: process.memoryUsage().rss }));
process.stdout.write(`${await app.listen({ port: 0, host: "127.0.0.1" })}\n`);
process.once("SIGTERM", () => void app.close().then(() => onnx.dispose()));
