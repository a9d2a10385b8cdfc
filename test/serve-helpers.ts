/** Tiny freshly created models of every kind, a server around them on port 0, and .npy parsing. */
import { createServer, type DeepgenServer } from "../lib/serve/server.js";
import type { CreateServerOptions } from "../lib/serve/server.js";
import type { ServableModel } from "../lib/serve/models.js";
import { Aae } from "../lib/models/aae.js";
import { IndependentBernoulli, MarkovChain } from "../lib/models/baselines.js";
import { Gan } from "../lib/models/gan.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { Rnade } from "../lib/models/rnade.js";
import { Vae } from "../lib/models/vae.js";

/** One small model of every kind deepgen serves, 8x8 images. */
export function tinyModels(): Record<string, ServableModel> {
  const shape = { height: 8, width: 8 };
  const data = new Float32Array(16 * 64).map((_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
  return {
    nade: Nade.create({ dim: 64, hidden: 16, initSeed: 1, ...shape }),
    rnade: Rnade.create({ dim: 64, hidden: 8, components: 2, ...shape }),
    rowlstm: PixelRnn.create({ kind: "rowlstm", hidden: 4, ...shape }),
    vae: Vae.create({ dim: 64, latent: 2, hidden: [16], initSeed: 1, ...shape }),
    aae: Aae.create({ dim: 64, latent: 2, hidden: [16], initSeed: 1, ...shape }),
    gan: Gan.create({ arch: "mlp", dim: 64, zdim: 4, hidden: [16], discHidden: [16], codes: 3, initSeed: 1, ...shape }),
    bernoulli: IndependentBernoulli.fit(data, 64),
    markov: MarkovChain.fit(data, 64),
  } as Record<string, ServableModel>;
}

export async function startServer(opts: Partial<CreateServerOptions> = {}): Promise<{ app: DeepgenServer; url: string }> {
  const app = createServer({ models: { models: tinyModels() }, logLevel: "silent", processMetrics: false, ...opts });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  await app.deepgen.loaded;
  return { app, url: address };
}

/** The float32 data and shape of a .npy body (format 1.0, '<f4', C order). */
export function parseNpy(buf: ArrayBuffer): { shape: number[]; data: Float32Array } {
  const bytes = new Uint8Array(buf);
  const headerLen = bytes[8]! | (bytes[9]! << 8);
  const header = new TextDecoder("latin1").decode(bytes.subarray(10, 10 + headerLen));
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]!
    .split(",")
    .filter((s) => s.trim() !== "")
    .map(Number);
  const data = new Float32Array(buf.slice(10 + headerLen));
  return { shape, data };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}
