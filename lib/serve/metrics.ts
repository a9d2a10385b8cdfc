/**
 * Prometheus metrics of one server, in a registry of its own (two servers in one process, as in
 * tests or a program that mounts the plugin twice, do not collide in prom-client's global one).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface ServeMetrics {
  registry: Registry;
  requests: Counter<"model" | "route" | "status">;
  queueDepth: Gauge<"model">;
  queueSeconds: Histogram<"model">;
  computeSeconds: Histogram<"model" | "kind">;
  batchRequests: Histogram<"model" | "kind">;
  batchRows: Histogram<"model" | "kind">;
}

export function createMetrics(opts: { processMetrics?: boolean } = {}): ServeMetrics {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "deepgen_" });
  const registers = [registry];
  const ms = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
  return {
    registry,
    requests: new Counter({
      name: "deepgen_http_requests_total",
      help: "HTTP requests answered, by model, route and status",
      labelNames: ["model", "route", "status"],
      registers,
    }),
    queueDepth: new Gauge({ name: "deepgen_queue_depth", help: "Requests waiting in a model's queue", labelNames: ["model"], registers }),
    queueSeconds: new Histogram({
      name: "deepgen_queue_seconds",
      help: "Time requests spent in a model's queue",
      labelNames: ["model"],
      buckets: ms,
      registers,
    }),
    computeSeconds: new Histogram({
      name: "deepgen_compute_seconds",
      help: "Time a batch took to compute",
      labelNames: ["model", "kind"],
      buckets: ms,
      registers,
    }),
    batchRequests: new Histogram({
      name: "deepgen_batch_requests",
      help: "Requests coalesced into one batch",
      labelNames: ["model", "kind"],
      buckets: sizes,
      registers,
    }),
    batchRows: new Histogram({
      name: "deepgen_batch_rows",
      help: "Rows (images) computed in one batch",
      labelNames: ["model", "kind"],
      buckets: sizes,
      registers,
    }),
  };
}
